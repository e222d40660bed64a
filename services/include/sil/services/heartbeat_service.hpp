#pragma once
// Publishes a Heartbeat every 100 ms of simulated time (10 Hz), starting at
// t = 0, so a harness always has telemetry to watch. Below 10 Hz ticks it
// publishes once per tick: it never bursts to catch up.
#include <cstdint>

#include "sil/ipc/message_bus.hpp"
#include "sil/ipc/messages.hpp"
#include "sil/services/service.hpp"

namespace sil::services {

class HeartbeatService {
 public:
  static constexpr std::uint64_t kPeriodNs = 100'000'000;

  explicit HeartbeatService(const SimClock& clock) noexcept : clock_(clock) {}

  void tick(ipc::Publisher auto& bus) {
    if (clock_.now_ns() < next_due_ns_) return;
    // Publications
    bus.publish(ipc::Heartbeat{.sequence = sequence_++, .tick = clock_.tick(), .sim_time_ns = clock_.now_ns()});
    next_due_ns_ = (clock_.now_ns() / kPeriodNs + 1) * kPeriodNs;
  }

 private:
  const SimClock& clock_;
  std::uint64_t next_due_ns_ = 0;
  std::uint32_t sequence_ = 0;
};

}  // namespace sil::services
