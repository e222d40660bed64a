#pragma once
// Who may talk to the bridge: a fixed set of IPv4 ranges (CIDR), checked
// on the rx path before anything else is done with a datagram. Fixed
// capacity, so the check never allocates and costs a few compares.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace sil::bridge {

// One IPv4 range, both words in network byte order as they sit in sockaddr_in.
struct Cidr {
  std::uint32_t network_be = 0;
  std::uint32_t mask_be = 0;

  bool contains(std::uint32_t address_be) const noexcept { return (address_be & mask_be) == network_be; }
  friend bool operator==(const Cidr&, const Cidr&) = default;
};

// "a.b.c.d/n" (n 0-32) or a bare "a.b.c.d" (/32). The error is one line
// naming the problem, e.g. "'10.0.0.5/8' has host bits set (did you mean 10.0.0.0/8?)".
std::variant<Cidr, std::string> parse_cidr(std::string_view text);

// "a.b.c.d/n", for logs and error messages.
std::string to_string(const Cidr& cidr);

class AllowList {
 public:
  static constexpr std::size_t kCapacity = 32;

  // False when the list is full.
  bool add(const Cidr& cidr) noexcept {
    if (size_ == kCapacity) return false;
    ranges_[size_++] = cidr;
    return true;
  }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  const Cidr& operator[](std::size_t i) const noexcept { return ranges_[i]; }

  // An empty list allows everyone: no --allow means no restriction.
  bool allows(std::uint32_t address_be) const noexcept {
    if (size_ == 0) return true;
    for (std::size_t i = 0; i < size_; ++i) {
      if (ranges_[i].contains(address_be)) return true;
    }
    return false;
  }

 private:
  std::array<Cidr, kCapacity> ranges_{};
  std::size_t size_ = 0;
};

}  // namespace sil::bridge
