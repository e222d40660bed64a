#pragma once
// The simulation thread's side of a recording: a bus subscriber that copies
// every message (and, through SimHost, every control request and reply)
// with its simulated and wall time into the RecordQueue. It never
// allocates, blocks or makes a syscall (the monotonic clock is read through
// the vDSO); when the queue is full the message is counted as dropped.
//
// Origin tells published from injected: anything with
// `bool is_injecting(const void* payload) const noexcept`, true while that
// payload is being published on behalf of the outside world (the UdpBridge,
// or a replay).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

#include "sil/ipc/message.hpp"
#include "sil/ipc/msg_id.hpp"
#include "sil/record/record_queue.hpp"
#include "sil/ipc/sim_clock.hpp"

namespace sil::record {

// MsgIds of the control plane on the wire (docs/control-plane.md "Control plane").
inline constexpr std::uint16_t kControlRequestId = 0xFFF0;
inline constexpr std::uint16_t kControlReplyId = 0xFFF1;

template <class Origin>
class Recorder {
 public:
  // `start`: the monotonic instant wall_ns counts from, taken together with
  // the header's start_unix_ns.
  Recorder(RecordQueue& queue, const ipc::SimClock& clock, const Origin& origin,
           std::chrono::steady_clock::time_point start) noexcept
      : queue_(queue), clock_(clock), origin_(origin), start_(start) {}

  template <ipc::Message T>
  void on(const T& payload) noexcept {
    push(static_cast<std::uint16_t>(T::id), origin_.is_injecting(&payload) ? MessageDirection::injected : MessageDirection::published,
         std::as_bytes(std::span{&payload, 1}));
  }

  void on_control_request(std::span<const std::byte> request) noexcept {
    push(kControlRequestId, MessageDirection::control_request, request);
  }
  void on_control_reply(std::span<const std::byte> reply) noexcept {
    push(kControlReplyId, MessageDirection::control_reply, reply);
  }

 private:
  void push(std::uint16_t id, MessageDirection direction, std::span<const std::byte> payload) noexcept {
    EntryMeta meta;
    meta.sim_time_ns = clock_.now_ns();
    meta.wall_ns = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start_).count());
    meta.msg_id = id;
    meta.direction = direction;
    queue_.try_push(meta, payload);
  }

  RecordQueue& queue_;
  const ipc::SimClock& clock_;
  const Origin& origin_;
  const std::chrono::steady_clock::time_point start_;
};

}  // namespace sil::record
