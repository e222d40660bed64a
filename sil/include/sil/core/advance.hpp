#pragma once
// Runs a bounded number of ticks, stopping early at the end of the tick in
// which an armed Watch matched. Resumable: run() takes a budget of ticks per
// call, so a caller on an event loop can advance a long way in slices and
// stay responsive (signals, stats) in between.
#include <algorithm>
#include <cstdint>
#include <limits>

#include "sil/core/watch.hpp"
#include "sil/ipc/sim_clock.hpp"

namespace sil::core {

// Whole ticks needed to cover duration_ns at this rate, rounded up.
constexpr std::uint64_t ticks_for(const ipc::SimClock& clock, std::uint64_t duration_ns) noexcept {
  const std::uint64_t whole = duration_ns / ipc::SimClock::kNanosPerSecond * clock.rate_hz();
  const std::uint64_t rest = duration_ns % ipc::SimClock::kNanosPerSecond * clock.rate_hz();
  return whole + (rest + ipc::SimClock::kNanosPerSecond - 1) / ipc::SimClock::kNanosPerSecond;
}

class AdvanceRun {
 public:
  // watch may be null (plain advance) or armed (advance until).
  AdvanceRun(std::uint64_t max_ticks, Watch* watch) noexcept : remaining_(max_ticks), watch_(watch) {}

  // at_boundary() runs before each tick: the point where inbound messages
  // are applied, so they land on a tick boundary. Returns true when done.
  template <class Sim, class Bus, class Boundary>
  bool run(Sim& sim, Bus& bus, Boundary&& at_boundary,
           std::uint64_t budget = std::numeric_limits<std::uint64_t>::max()) {
    while (!done() && budget-- > 0) {
      at_boundary();
      if (watch_ != nullptr) watch_->set_time(sim.clock().now_ns());
      sim.step(bus);
      --remaining_;
      ++ticks_run_;
    }
    return done();
  }

  bool done() const noexcept { return remaining_ == 0 || matched(); }
  bool matched() const noexcept { return watch_ != nullptr && watch_->matched(); }
  std::uint64_t ticks_run() const noexcept { return ticks_run_; }

 private:
  std::uint64_t remaining_;
  std::uint64_t ticks_run_ = 0;
  Watch* watch_;
};

}  // namespace sil::core
