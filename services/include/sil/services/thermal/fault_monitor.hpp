#pragma once
// Watches PlantTemperature for over-temperature, the supervisor of the
// example thermal system (docs/example-thermal.md "FaultMonitor").
//
// Raise: the temperature must stay above kThresholdC continuously for
// kPersistenceNs of simulated time. The fault is raised at the first reading
// whose time is at least (time of the first reading of the run above the
// threshold) + kPersistenceNs; a reading at or below the threshold ends the
// run, and the next one above it starts a new run.
// Clear: the first reading below kClearBelowC clears a raised fault at once.
// Between the two (75 C to 80 C) a raised fault stays raised.
//
// It publishes OverTemperatureFault on each edge only: once when raised,
// once when cleared. PlantTemperature carries no time, so a reading's time
// is the simulated time at which it arrives (clock.now_ns()). A non-finite
// temperature says nothing either way: it is ignored and counted, and does
// not end a run.
#include <cmath>
#include <cstdint>

#include "sil/ipc/message_bus.hpp"
#include "sil/ipc/thermal_messages.hpp"
#include "sil/services/sim_clock.hpp"

namespace sil::services {

class FaultMonitor {
 public:
  static constexpr double kThresholdC = 80.0;                     // raise above this ...
  static constexpr std::uint64_t kPersistenceNs = 2'000'000'000;  // ... held this long
  static constexpr double kClearBelowC = 75.0;                    // clear below this
  static_assert(kClearBelowC < kThresholdC, "the hysteresis band must not be empty");

  explicit FaultMonitor(const SimClock& clock) noexcept : clock_(clock) {}

  // Subscriptions
  void on(const ipc::PlantTemperature& reading, ipc::Publisher auto& bus) {
    const double temperature_c = reading.temperature_c;
    if (!std::isfinite(temperature_c)) {
      ++ignored_readings_;
      return;
    }
    const std::uint64_t now_ns = clock_.now_ns();
    if (active_) {
      if (temperature_c < kClearBelowC) {
        active_ = false;
        over_ = false;
        // Publications
        bus.publish(
            ipc::OverTemperatureFault{.active = 0, .temperature_c = temperature_c, .raised_at_ns = raised_at_ns_});
      }
      return;
    }
    if (temperature_c <= kThresholdC) {
      over_ = false;
      return;
    }
    if (!over_) {
      over_ = true;
      over_since_ns_ = now_ns;
    }
    if (now_ns - over_since_ns_ >= kPersistenceNs) {
      active_ = true;
      raised_at_ns_ = now_ns;
      bus.publish(ipc::OverTemperatureFault{.active = 1, .temperature_c = temperature_c, .raised_at_ns = now_ns});
    }
  }

  bool active() const noexcept { return active_; }
  std::uint64_t raised_at_ns() const noexcept { return raised_at_ns_; }
  std::uint64_t ignored_readings() const noexcept { return ignored_readings_; }

 private:
  const SimClock& clock_;
  bool active_ = false;
  bool over_ = false;               // in a run of readings above the threshold
  std::uint64_t over_since_ns_ = 0;  // when that run began
  std::uint64_t raised_at_ns_ = 0;
  std::uint64_t ignored_readings_ = 0;
};

}  // namespace sil::services
