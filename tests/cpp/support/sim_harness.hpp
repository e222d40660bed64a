#pragma once
// An in-process sil-sim for integration tests: a SimHost on its own
// simulation thread (plus the rx thread its clock needs), and a harness
// socket that speaks the control plane to it.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "loopback_client.hpp"
#include "running_host.hpp"
#include "sil/bridge/bundle.hpp"
#include "unbundle.hpp"
#include "sil/ipc/datagram.hpp"
#include "test_system.hpp"
#include "sil/core/sim_host.hpp"
#include "test_system.hpp"
#include "sil_control.pb.h"

namespace sil::test {

using Bytes = std::vector<std::byte>;

// The harness side of the control plane: sends a request, collects every
// bus datagram that arrives before the reply.
class Harness {
 public:
  explicit Harness(std::uint16_t port) : port_(port) {}

  control::Reply call(control::Request request, std::vector<Bytes>* before = nullptr) {
    request.set_sequence(++sequence_);
    send_raw(request.SerializeAsString());
    return await_reply(before);
  }

  void send_raw(const std::string& body) {
    Bytes datagram{std::byte{0xF0}, std::byte{0xFF}};
    for (const char c : body) datagram.push_back(static_cast<std::byte>(c));
    client_.send_to(port_, datagram);
  }

  template <class T>
  void inject(const T& message) {
    client_.send_to(port_, bridge::encode_datagram(message));
  }

  control::Reply await_reply(std::vector<Bytes>* before = nullptr) {
    for (int i = 0; i < 100'000; ++i) {
      auto datagram = next();
      if (!datagram) break;
      if (datagram->size() >= 2 && (*datagram)[0] == std::byte{0xF1} && (*datagram)[1] == std::byte{0xFF}) {
        control::Reply reply;
        EXPECT_TRUE(reply.ParseFromArray(datagram->data() + 2, static_cast<int>(datagram->size() - 2)));
        return reply;
      }
      if (before != nullptr) before->push_back(std::move(*datagram));
    }
    ADD_FAILURE() << "no control reply";
    return {};
  }

  // Datagrams and bundles that arrived so far (a bundle counts once in both).
  std::size_t datagrams() const noexcept { return datagrams_; }
  std::size_t bundles() const noexcept { return bundles_; }

 private:
  // The next datagram, with bundles opened: their items one by one, in order.
  std::optional<Bytes> next() {
    if (pending_.empty()) {
      auto datagram = client_.receive();
      if (!datagram) return std::nullopt;
      ++datagrams_;
      if (!bridge::is_bundle(*datagram)) return datagram;
      ++bundles_;
      for (auto& item : unbundle({*datagram})) pending_.push_back(std::move(item));
      if (pending_.empty()) return Bytes{};
    }
    Bytes item = std::move(pending_.front());
    pending_.pop_front();
    return item;
  }

  std::uint16_t port_;
  std::uint32_t sequence_ = 0;
  LoopbackClient client_;
  std::deque<Bytes> pending_;
  std::size_t datagrams_ = 0;
  std::size_t bundles_ = 0;
};

inline control::Request advance_ticks(std::uint64_t ticks) {
  control::Request request;
  request.mutable_advance()->set_ticks(ticks);
  return request;
}

}  // namespace sil::test
