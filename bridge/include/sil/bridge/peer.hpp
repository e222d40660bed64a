#pragma once
// The active peer: the IPv4 address and port that telemetry goes to. Packed
// into one 64-bit word so the rx thread (the only writer) and the sim thread
// (the reader, once per send) share it through a single lock-free atomic,
// with no lock and no torn read of address vs port.
#include <netinet/in.h>

#include <atomic>
#include <cstdint>

namespace sil::bridge {

// Layout: bits 0..31 the address, bits 32..47 the port, both in network byte
// order exactly as they sit in sockaddr_in. Zero means "no peer": no sender
// has port 0.
constexpr std::uint64_t pack_peer(std::uint32_t address_be, std::uint16_t port_be) noexcept {
  return static_cast<std::uint64_t>(address_be) | (static_cast<std::uint64_t>(port_be) << 32U);
}

inline std::uint64_t pack_peer(const sockaddr_in& address) noexcept {
  return pack_peer(address.sin_addr.s_addr, address.sin_port);
}

inline sockaddr_in unpack_peer(std::uint64_t packed) noexcept {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = static_cast<std::uint32_t>(packed);
  address.sin_port = static_cast<std::uint16_t>(packed >> 32U);
  return address;
}

class ActivePeer {
 public:
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "the peer must be one lock-free word");

  // Relaxed is enough: the word is the whole message. Nothing else is
  // published with it, so there is nothing for an acquire to order.
  std::uint64_t load() const noexcept { return packed_.load(std::memory_order_relaxed); }

  // Writer side: the one thread that receives (the rx thread, or the
  // simulation thread under the step clock). Stores only when the sender differs from
  // the last one stored, so steady traffic from one peer costs no store.
  // Returns true when the peer changed.
  bool update(std::uint64_t sender) noexcept {
    if (sender == last_stored_) return false;
    last_stored_ = sender;
    packed_.store(sender, std::memory_order_relaxed);
    return true;
  }

 private:
  std::atomic<std::uint64_t> packed_{0};
  std::uint64_t last_stored_ = 0;  // touched by the writer only
};

}  // namespace sil::bridge
