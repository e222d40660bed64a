#include "sil/bridge/allow_list.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <bit>
#include <charconv>
#include <string>

namespace sil::bridge {

namespace {

std::uint32_t mask_for(unsigned prefix) noexcept {
  const std::uint32_t host_order = prefix == 0 ? 0U : ~std::uint32_t{0} << (32U - prefix);
  return htonl(host_order);
}

}  // namespace

std::variant<Cidr, std::string> parse_cidr(std::string_view text) {
  const std::string quoted = "'" + std::string(text) + "'";
  const auto slash = text.find('/');
  const std::string address_text(text.substr(0, slash));
  in_addr address{};
  if (::inet_pton(AF_INET, address_text.c_str(), &address) != 1) {
    return quoted + " is not an IPv4 range (a.b.c.d/n)";
  }
  unsigned prefix = 32;
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    const auto* end = digits.data() + digits.size();
    const auto [ptr, ec] = std::from_chars(digits.data(), end, prefix);
    if (digits.empty() || ec != std::errc{} || ptr != end || prefix > 32) {
      return quoted + " has no valid prefix length (0-32 after the '/')";
    }
  }
  const Cidr cidr{address.s_addr & mask_for(prefix), mask_for(prefix)};
  if (cidr.network_be != address.s_addr) {
    return quoted + " has host bits set (did you mean " + to_string(cidr) + "?)";
  }
  return cidr;
}

std::string to_string(const Cidr& cidr) {
  std::array<char, INET_ADDRSTRLEN> buffer{};
  in_addr address{};
  address.s_addr = cidr.network_be;
  ::inet_ntop(AF_INET, &address, buffer.data(), buffer.size());
  const auto prefix = std::popcount(cidr.mask_be);
  return std::string(buffer.data()) + "/" + std::to_string(prefix);
}

}  // namespace sil::bridge
