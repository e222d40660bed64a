#pragma once
// The thing being controlled: a lumped thermal mass with an electric heater,
// losing heat to a constant ambient (docs/example-thermal.md "Example system").
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

#include <sil/services/params.hpp>
#include <sil/services/service.hpp>

#include "thermal/messages.hpp"

namespace thermal {

using sil::SimClock;

// One plant's physics, as parameters (plant.ambient_c, ...). A system can
// run several plants with their own values (sil::Instance<"left",
// HeaterPlant, &kLeftPlant>). A change applies from the simulated time it is
// made: the model first advances to it with the old values.
SIL_PARAMS(HeaterPlantParams,
           (double, heat_capacity_j_per_k, 1000.0, "J/K", "thermal mass C", sil::range(1.0, 1.0e9)),
           (double, loss_w_per_k, 10.0, "W/K", "heat loss k to ambient", sil::range(0.001, 1.0e6)),
           (double, ambient_c, 20.0, "C", "ambient temperature; the plant starts there", sil::range(-50.0, 100.0)),
           (double, max_power_w, 2000.0, "W", "the heater's rating: commands are clamped to it",
            sil::range(0.0, 1.0e6)));

class HeaterPlant {
 public:
  using Params = HeaterPlantParams;
  static constexpr Params kDefaults{};
  // The default plant's figures.
  static constexpr double kHeatCapacityJPerK = kDefaults.heat_capacity_j_per_k;
  static constexpr double kLossWPerK = kDefaults.loss_w_per_k;
  static constexpr double kAmbientC = kDefaults.ambient_c;
  static constexpr double kMaxPowerW = kDefaults.max_power_w;
  static constexpr double kTimeConstantS = kHeatCapacityJPerK / kLossWPerK;  // tau = 100 s
  // Where full power levels off: the hottest the plant can get.
  static constexpr double kMaxSteadyStateC = kAmbientC + kMaxPowerW / kLossWPerK;  // 220 C
  static_assert(kMaxSteadyStateC == 220.0);

  explicit HeaterPlant(const SimClock& clock, sil::Params<Params> params = sil::Params<Params>(kDefaults)) noexcept
      : clock_(clock), params_(params), model_time_ns_(clock.now_ns()), temperature_c_(params->ambient_c) {}

  const Params& params() const noexcept { return *params_; }

  // Subscriptions
  // Clamped to [0, max power]; a non-finite power is ignored and counted.
  void on(const HeaterCommand& command) noexcept {
    const double power_w = command.power_w;
    if (!std::isfinite(power_w)) {
      ++rejected_commands_;
      return;
    }
    advance_to(clock_.now_ns());  // the old power held until now
    power_w_ = std::clamp(power_w, 0.0, params_->max_power_w);
  }

  void tick(sil::ipc::Publisher auto& bus) {
    advance_to(clock_.now_ns());
    power_w_ = std::min(power_w_, params_->max_power_w);  // a lowered rating applies at once
    // Publications
    bus.publish(PlantTemperature{.temperature_c = temperature_c_, .heater_power_w = power_w_});
  }

  double temperature_c() const noexcept { return temperature_c_; }
  double power_w() const noexcept { return power_w_; }
  std::uint64_t rejected_commands() const noexcept { return rejected_commands_; }

 private:
  void advance_to(std::uint64_t now_ns) noexcept {
    if (now_ns <= model_time_ns_) return;
    const double dt_s = static_cast<double>(now_ns - model_time_ns_) / static_cast<double>(SimClock::kNanosPerSecond);
    const double equilibrium_c = params_->ambient_c + power_w_ / params_->loss_w_per_k;
    const double time_constant_s = params_->heat_capacity_j_per_k / params_->loss_w_per_k;
    temperature_c_ = equilibrium_c + (temperature_c_ - equilibrium_c) * std::exp(-dt_s / time_constant_s);
    model_time_ns_ = now_ns;
  }

  const SimClock& clock_;
  sil::Params<Params> params_;
  std::uint64_t model_time_ns_;  // the simulated time temperature_c_ belongs to
  double temperature_c_;
  double power_w_ = 0.0;
  std::uint64_t rejected_commands_ = 0;
};

}  // namespace thermal
