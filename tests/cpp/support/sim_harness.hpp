#pragma once
// An in-process sil-sim for integration tests: a SimHost on its own
// simulation thread (plus the rx thread its clock needs), and a harness
// socket that speaks the control plane to it.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <system_error>
#include <cstdint>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "loopback_client.hpp"
#include "running_host.hpp"
#include "sil/harness/link.hpp"
#include "sil/ipc/datagram.hpp"
#include "test_system.hpp"
#include "sil/core/sim_host.hpp"
#include "test_system.hpp"
#include "sil_control.pb.h"

namespace sil::test {

using Bytes = std::vector<std::byte>;

// The harness side of the control plane, on sil's one C++ harness link
// (harness::Link): sends a request, collects every bus datagram that arrives
// before the reply, bundles opened.
class Harness {
 public:
  explicit Harness(std::uint16_t port) : socket_(connected_socket(port)), link_(socket_.fd) {}

  control::Reply call(const control::Request& request, std::vector<Bytes>* before = nullptr) {
    const std::uint32_t sequence = link_.send_request(request);
    EXPECT_NE(sequence, 0U) << "the request was not sent: " << std::strerror(link_.last_send_error());
    return reply(link_.wait_reply(sequence, sequence, deadline()), before);
  }

  // A control request's body as raw bytes, well-formed or not.
  void send_raw(const std::string& body) {
    Bytes datagram{std::byte{0xF0}, std::byte{0xFF}};
    for (const char c : body) datagram.push_back(static_cast<std::byte>(c));
    EXPECT_TRUE(link_.send_datagram(datagram));
  }

  template <class T>
  void inject(const T& message) {
    EXPECT_TRUE(link_.send_datagram(bridge::encode_datagram(message)));
  }

  // The first reply that comes, to whatever request.
  control::Reply await_reply(std::vector<Bytes>* before = nullptr) {
    return reply(link_.wait_any_reply(deadline()), before);
  }

  // Datagrams and bundles that arrived so far (a bundle counts once in both).
  std::size_t datagrams() const noexcept { return static_cast<std::size_t>(link_.datagrams()); }
  std::size_t bundles() const noexcept { return static_cast<std::size_t>(link_.bundles()); }

 private:
  struct Socket {
    int fd;
    ~Socket() { ::close(fd); }
  };
  static int connected_socket(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "socket");
    const sockaddr_in to = LoopbackClient::loopback(port);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
      const int error = errno;
      ::close(fd);
      throw std::system_error(error, std::generic_category(), "connect");
    }
    return fd;
  }
  // A guard against a sim that never answers, not an expectation.
  static harness::Link::Clock::time_point deadline() { return harness::Link::Clock::now() + std::chrono::seconds{30}; }

  control::Reply reply(harness::Link::Wait outcome, std::vector<Bytes>* before) {
    link_.for_each_datagram([&](std::span<const std::byte> datagram) {
      if (before != nullptr) before->emplace_back(datagram.begin(), datagram.end());
    });
    link_.clear_datagrams();
    for (const auto& bad : link_.undecodable()) ADD_FAILURE() << "undecodable datagram: " << bad.reason;
    link_.undecodable().clear();
    if (outcome != harness::Link::Wait::reply) {
      ADD_FAILURE() << "no control reply";
      return {};
    }
    return link_.reply();
  }

  Socket socket_;
  harness::Link link_;
};

inline control::Request advance_ticks(std::uint64_t ticks) {
  control::Request request;
  request.mutable_advance()->set_ticks(ticks);
  return request;
}

}  // namespace sil::test
