#pragma once
// Watches PlantTemperature for over-temperature, the supervisor of the
// example thermal system (docs/example-thermal.md "Example system").
//
// Raise: the temperature must stay above threshold_c continuously for
// persistence_ns of simulated time. The fault is raised at the first reading
// whose time is at least (time of the first reading of the run above the
// threshold) + kPersistenceNs; a reading at or below the threshold ends the
// run, and the next one above it starts a new run.
// Clear: the first reading below clear_below_c clears a raised fault at once.
// Between the two (75 C to 80 C by default) a raised fault stays raised.
// All three are parameters (monitor.threshold_c, ...): a change applies from
// the next reading on; a run of readings already above the threshold keeps
// its start.
//
// It publishes OverTemperatureFault on each edge only: once when raised,
// once when cleared. PlantTemperature carries no time, so a reading's time
// is the simulated time at which it arrives (clock.now_ns()). A non-finite
// temperature says nothing either way: it is ignored and counted, and does
// not end a run.
#include <cmath>
#include <cstdint>

#include <sil/services/params.hpp>
#include <sil/services/service.hpp>

#include "thermal/messages.hpp"

namespace thermal {

using sil::SimClock;

SIL_PARAMS(FaultMonitorParams,
           (double, threshold_c, 80.0, "C", "raise above this temperature ...", sil::range(-50.0, 500.0)),
           (std::uint64_t, persistence_ns, 2'000'000'000, "ns", "... held this long",
            sil::range(0, 600'000'000'000)),
           (double, clear_below_c, 75.0, "C", "clear a raised fault below this temperature",
            sil::range(-50.0, 500.0)));

class FaultMonitor {
 public:
  using Params = FaultMonitorParams;
  static constexpr Params kDefaults{};
  static constexpr double kThresholdC = kDefaults.threshold_c;
  static constexpr std::uint64_t kPersistenceNs = kDefaults.persistence_ns;
  static constexpr double kClearBelowC = kDefaults.clear_below_c;
  static_assert(kClearBelowC < kThresholdC, "the hysteresis band must not be empty");

  explicit FaultMonitor(const SimClock& clock, sil::Params<Params> params = sil::Params<Params>(kDefaults)) noexcept
      : clock_(clock), params_(params) {}

  // Subscriptions
  void on(const PlantTemperature& reading, sil::ipc::Publisher auto& bus) {
    const double temperature_c = reading.temperature_c;
    if (!std::isfinite(temperature_c)) {
      ++ignored_readings_;
      return;
    }
    const std::uint64_t now_ns = clock_.now_ns();
    if (active_) {
      if (temperature_c < params_->clear_below_c) {
        active_ = false;
        over_ = false;
        // Publications
        bus.publish(
            OverTemperatureFault{.active = 0, .temperature_c = temperature_c, .raised_at_ns = raised_at_ns_});
      }
      return;
    }
    if (temperature_c <= params_->threshold_c) {
      over_ = false;
      return;
    }
    if (!over_) {
      over_ = true;
      over_since_ns_ = now_ns;
    }
    if (now_ns - over_since_ns_ >= params_->persistence_ns) {
      active_ = true;
      raised_at_ns_ = now_ns;
      bus.publish(OverTemperatureFault{.active = 1, .temperature_c = temperature_c, .raised_at_ns = now_ns});
    }
  }

  bool active() const noexcept { return active_; }
  std::uint64_t raised_at_ns() const noexcept { return raised_at_ns_; }
  std::uint64_t ignored_readings() const noexcept { return ignored_readings_; }

 private:
  const SimClock& clock_;
  sil::Params<Params> params_;
  bool active_ = false;
  bool over_ = false;               // in a run of readings above the threshold
  std::uint64_t over_since_ns_ = 0;  // when that run began
  std::uint64_t raised_at_ns_ = 0;
  std::uint64_t ignored_readings_ = 0;
};

}  // namespace thermal
