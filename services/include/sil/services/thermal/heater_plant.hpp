#pragma once
// The thing being controlled: a lumped thermal mass with an electric heater,
// losing heat to a constant ambient (docs/example-thermal.md "HeaterPlant").
//
//     C * dT/dt = P - k * (T - T_ambient)
//
// It starts at ambient with the heater off. Between two moments the power is
// constant, so the model advances by the exact solution of that equation
// rather than by an Euler step:
//
//     T(t + dt) = T_eq + (T(t) - T_eq) * exp(-dt / tau),  T_eq = T_ambient + P / k,  tau = C / k
//
// The result depends on the simulated time elapsed, not on how it was cut
// into ticks: every rate gives the same temperature at the same time, up to
// rounding. A HeaterCommand takes effect at the simulated time it arrives:
// the model first advances to that time with the old power.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "sil/ipc/message_bus.hpp"
#include "sil/ipc/thermal_messages.hpp"
#include "sil/services/sim_clock.hpp"

namespace sil::services {

class HeaterPlant {
 public:
  static constexpr double kHeatCapacityJPerK = 1000.0;  // C
  static constexpr double kLossWPerK = 10.0;            // k, to ambient
  static constexpr double kAmbientC = 20.0;
  static constexpr double kMaxPowerW = 2000.0;
  static constexpr double kTimeConstantS = kHeatCapacityJPerK / kLossWPerK;  // tau = 100 s
  // Where full power levels off: the hottest the plant can get.
  static constexpr double kMaxSteadyStateC = kAmbientC + kMaxPowerW / kLossWPerK;  // 220 C
  static_assert(kMaxSteadyStateC == 220.0);

  explicit HeaterPlant(const SimClock& clock) noexcept : clock_(clock), model_time_ns_(clock.now_ns()) {}

  // Subscriptions
  // Clamped to [0, kMaxPowerW]; a non-finite power is ignored and counted.
  void on(const ipc::HeaterCommand& command) noexcept {
    const double power_w = command.power_w;
    if (!std::isfinite(power_w)) {
      ++rejected_commands_;
      return;
    }
    advance_to(clock_.now_ns());  // the old power held until now
    power_w_ = std::clamp(power_w, 0.0, kMaxPowerW);
  }

  void tick(ipc::Publisher auto& bus) {
    advance_to(clock_.now_ns());
    // Publications
    bus.publish(ipc::PlantTemperature{.temperature_c = temperature_c_, .heater_power_w = power_w_});
  }

  double temperature_c() const noexcept { return temperature_c_; }
  double power_w() const noexcept { return power_w_; }
  std::uint64_t rejected_commands() const noexcept { return rejected_commands_; }

 private:
  void advance_to(std::uint64_t now_ns) noexcept {
    if (now_ns <= model_time_ns_) return;
    const double dt_s = static_cast<double>(now_ns - model_time_ns_) / static_cast<double>(SimClock::kNanosPerSecond);
    const double equilibrium_c = kAmbientC + power_w_ / kLossWPerK;
    temperature_c_ = equilibrium_c + (temperature_c_ - equilibrium_c) * std::exp(-dt_s / kTimeConstantS);
    model_time_ns_ = now_ns;
  }

  const SimClock& clock_;
  std::uint64_t model_time_ns_;  // the simulated time temperature_c_ belongs to
  double temperature_c_ = kAmbientC;
  double power_w_ = 0.0;
  std::uint64_t rejected_commands_ = 0;
};

}  // namespace sil::services
