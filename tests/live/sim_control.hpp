#pragma once
// The harness end of a running sil-sim's UDP port, for the live tests:
// raw datagrams out, and control requests whose replies it waits for while
// it drains whatever else the sim sends (telemetry, error replies).
#include <chrono>
#include <cstddef>
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "loopback_client.hpp"
#include "sil_control.pb.h"

namespace sil::live {

class SimControl {
 public:
  explicit SimControl(std::uint16_t port) : port_(port) {}

  void send(std::span<const std::byte> datagram) const { client_.send_to(port_, datagram); }

  // Sends `request` with the next sequence number, which it returns; the
  // reply is the ControlReply that echoes it.
  std::uint32_t send_request(control::Request request);

  // Sends `request` with the next sequence number and returns its reply, or
  // nothing if none came within `within`. Datagrams that are not that reply
  // are read and counted in others().
  std::optional<control::Reply> call(control::Request request, std::chrono::milliseconds within);

  // GetStats; throws std::runtime_error if the sim does not answer in 20 s.
  control::Stats stats();

  // Waits for a datagram for which pred(bytes) holds, counting the others.
  template <class Pred>
  bool await(Pred pred, std::chrono::milliseconds within) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() < 0) return false;
      const auto length = client_.receive_into(buffer_, left);
      if (!length) continue;
      const std::span<const std::byte> datagram{buffer_.data(), *length};
      if (pred(datagram)) return true;
      ++others_;
    }
  }

  // Hands every datagram already waiting to on_datagram(bytes), without
  // waiting for more; returns how many there were.
  template <class OnDatagram>
  std::size_t drain(OnDatagram on_datagram) {
    std::size_t drained = 0;
    while (const auto length = client_.receive_into(buffer_, std::chrono::milliseconds{0})) {
      on_datagram(std::span<const std::byte>{buffer_.data(), *length});
      ++drained;
    }
    return drained;
  }

  std::uint64_t others() const noexcept { return others_; }
  std::uint32_t last_sequence() const noexcept { return sequence_; }

 private:
  std::uint16_t port_;
  std::uint32_t sequence_ = 0;
  std::uint64_t others_ = 0;
  test::LoopbackClient client_;
  std::array<std::byte, 65536> buffer_{};
};

// A count from one of the Stats' per-message lists (0 if the id is absent).
std::uint64_t count_for(const google::protobuf::RepeatedPtrField<control::IdCount>& counts, std::uint16_t msg_id);

// The Reply in a datagram, if it is a ControlReply that parses.
std::optional<control::Reply> control_reply(std::span<const std::byte> datagram);

// A drop reason's count (0 if absent).
std::uint64_t drops_for(const control::Stats& stats, const std::string& reason);

}  // namespace sil::live
