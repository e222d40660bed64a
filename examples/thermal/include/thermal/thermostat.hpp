#pragma once
// An on/off thermostat with hysteresis, the controller of the example thermal
// system (docs/example-thermal.md "Example system"). At every PlantTemperature it decides and
// publishes a HeaterCommand:
//
//     T <  set point - hysteresis_c   ->  heater_on_power_w
//     T >  set point + hysteresis_c   ->  0 W
//     otherwise                       ->  the previous decision
//
// hysteresis_c and heater_on_power_w are parameters (thermostat.hysteresis_c,
// ...): a change applies from the next decision on. It starts with the heater
// off and the set point at the parameter start_setpoint_c (50 C). A
// SetPoint only stores the new value: it takes effect at the next decision,
// that is at the next PlantTemperature. A non-finite set point is ignored
// (the old one stays) and counted (the counter thermostat.rejected_set_points,
// in stats() and the stopped line). A non-finite temperature turns the heater
// off: without a valid reading, off is the safe state.
#include <cmath>
#include <cstdint>

#include <sil/services/counters.hpp>
#include <sil/services/params.hpp>
#include <sil/services/service.hpp>

#include "thermal/messages.hpp"

namespace thermal {

using sil::SimClock;

SIL_PARAMS(ThermostatParams,
           (double, hysteresis_c, 0.5, "C", "half the width of the dead band", sil::range(0.0, 50.0)),
           (double, heater_on_power_w, 2000.0, "W", "the power asked for when on (the plant clamps it)",
            sil::range(0.0, 1.0e6)),
           (double, start_setpoint_c, 50.0, "C", "the set point until the first SetPoint",
            sil::range(-50.0, 500.0), sil::at_restart));

SIL_COUNTERS(ThermostatCounters,
             (rejected_set_points, "SetPoints ignored because the value was not finite (the old set point stays)"));

class Thermostat {
 public:
  using Params = ThermostatParams;
  using Counters = ThermostatCounters;
  static constexpr Params kDefaults{};
  static constexpr double kDefaultSetpointC = kDefaults.start_setpoint_c;
  static constexpr double kHysteresisC = kDefaults.hysteresis_c;
  static constexpr double kHeaterOnPowerW = kDefaults.heater_on_power_w;  // the heater's rating: HeaterPlant::kMaxPowerW

  explicit Thermostat(sil::Params<Params> params = sil::Params<Params>(kDefaults)) noexcept
      : params_(params), setpoint_c_(params->start_setpoint_c) {}

  // Subscriptions
  void on(const SetPoint& set_point) noexcept {
    const double setpoint_c = set_point.setpoint_c;
    if (!std::isfinite(setpoint_c)) {
      ++counters_.rejected_set_points;
      return;
    }
    setpoint_c_ = setpoint_c;
  }

  void on(const PlantTemperature& reading, sil::ipc::Publisher auto& bus) {
    const double temperature_c = reading.temperature_c;
    if (!std::isfinite(temperature_c)) {
      heater_on_ = false;
    } else if (temperature_c < setpoint_c_ - params_->hysteresis_c) {
      heater_on_ = true;
    } else if (temperature_c > setpoint_c_ + params_->hysteresis_c) {
      heater_on_ = false;
    }
    // Publications
    bus.publish(HeaterCommand{.power_w = heater_on_ ? params_->heater_on_power_w : 0.0});
  }

  double setpoint_c() const noexcept { return setpoint_c_; }
  bool heater_on() const noexcept { return heater_on_; }
  const Counters& counters() const noexcept { return counters_; }

 private:
  sil::Params<Params> params_;
  double setpoint_c_;
  bool heater_on_ = false;
  Counters counters_;
};

}  // namespace thermal
