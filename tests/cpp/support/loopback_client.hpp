#pragma once
// A harness-side UDP socket on 127.0.0.1 for the bridge and loop tests: sends
// raw bytes to a bridge and receives what the bridge sends back. Plain POSIX
// so the test talks to the bridge exactly as an external harness would.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <system_error>
#include <vector>

#include "sil/bridge/peer.hpp"

namespace sil::test {

// Every wait in these tests is bounded by this; it only keeps a broken
// build from hanging, it is never a performance expectation.
inline constexpr std::chrono::seconds kGenerousDeadline{20};

class LoopbackClient {
 public:
  // Bound to 127.0.0.1 on a kernel-chosen port, or to another loopback
  // address (any of 127.0.0.0/8) and port; throws std::system_error if the
  // address cannot be bound.
  explicit LoopbackClient(const char* address_text = "127.0.0.1", std::uint16_t port = 0)
      : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
    sockaddr_in address = loopback(port);
    ::inet_pton(AF_INET, address_text, &address.sin_addr);
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      const int error = errno;
      ::close(fd_);
      throw std::system_error(error, std::generic_category(), "bind");
    }
    socklen_t length = sizeof local_;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local_), &length);
  }
  ~LoopbackClient() { ::close(fd_); }
  LoopbackClient(const LoopbackClient&) = delete;
  LoopbackClient& operator=(const LoopbackClient&) = delete;

  // How the bridge records this client as its peer.
  std::uint64_t packed_address() const noexcept { return bridge::pack_peer(local_); }
  std::uint16_t port() const noexcept { return ntohs(local_.sin_port); }

  void send_to(std::uint16_t port, std::span<const std::byte> bytes) const {
    const sockaddr_in to = loopback(port);
    const auto sent =
        ::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
    if (sent < 0 || static_cast<std::size_t>(sent) != bytes.size()) {
      throw std::system_error(errno, std::generic_category(), "sendto");
    }
  }

  // The next datagram, waiting at most the generous deadline.
  std::optional<std::vector<std::byte>> receive() const { return receive_within(kGenerousDeadline); }

  // The next datagram if one is queued right now. Loopback sendmsg queues
  // the datagram on the receiving socket before it returns, so "nothing
  // now" after the sender is done means "nothing was sent".
  std::optional<std::vector<std::byte>> receive_now() const { return receive_within(std::chrono::seconds{0}); }

  // Allocation-free form: the datagram's length (cut to the buffer), or
  // nothing when none arrived within the timeout.
  std::optional<std::size_t> receive_into(std::span<std::byte> buffer, std::chrono::milliseconds timeout) const {
    pollfd fds{fd_, POLLIN, 0};
    if (::poll(&fds, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    const auto length = ::recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (length < 0) return std::nullopt;
    return static_cast<std::size_t>(length);
  }

  static sockaddr_in loopback(std::uint16_t port) noexcept {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    return address;
  }

 private:

  std::optional<std::vector<std::byte>> receive_within(std::chrono::milliseconds timeout) const {
    std::vector<std::byte> buffer(65536);
    const auto length = receive_into(buffer, timeout);
    if (!length) return std::nullopt;
    buffer.resize(*length);
    return buffer;
  }

  int fd_;
  sockaddr_in local_{};
};

}  // namespace sil::test
