#pragma once
// An on/off thermostat with hysteresis, the controller of the example thermal
// system (docs/example-thermal.md "Thermostat"). At every PlantTemperature it decides and
// publishes a HeaterCommand:
//
//     T <  set point - kHysteresisC   ->  kHeaterOnPowerW
//     T >  set point + kHysteresisC   ->  0 W
//     otherwise                       ->  the previous decision
//
// It starts with the heater off and the set point at kDefaultSetpointC. A
// SetPoint only stores the new value: it takes effect at the next decision,
// that is at the next PlantTemperature. A non-finite set point is ignored
// (the old one stays) and counted. A non-finite temperature turns the heater
// off: without a valid reading, off is the safe state.
#include <cmath>
#include <cstdint>

#include "sil/ipc/message_bus.hpp"
#include "sil/ipc/thermal_messages.hpp"

namespace sil::services {

class Thermostat {
 public:
  static constexpr double kDefaultSetpointC = 50.0;
  static constexpr double kHysteresisC = 0.5;       // half the width of the dead band
  static constexpr double kHeaterOnPowerW = 2000.0;  // the heater's rating: HeaterPlant::kMaxPowerW

  // Subscriptions
  void on(const ipc::SetPoint& set_point) noexcept {
    const double setpoint_c = set_point.setpoint_c;
    if (!std::isfinite(setpoint_c)) {
      ++rejected_setpoints_;
      return;
    }
    setpoint_c_ = setpoint_c;
  }

  void on(const ipc::PlantTemperature& reading, ipc::Publisher auto& bus) {
    const double temperature_c = reading.temperature_c;
    if (!std::isfinite(temperature_c)) {
      heater_on_ = false;
    } else if (temperature_c < setpoint_c_ - kHysteresisC) {
      heater_on_ = true;
    } else if (temperature_c > setpoint_c_ + kHysteresisC) {
      heater_on_ = false;
    }
    // Publications
    bus.publish(ipc::HeaterCommand{.power_w = heater_on_ ? kHeaterOnPowerW : 0.0});
  }

  double setpoint_c() const noexcept { return setpoint_c_; }
  bool heater_on() const noexcept { return heater_on_; }
  std::uint64_t rejected_setpoints() const noexcept { return rejected_setpoints_; }

 private:
  double setpoint_c_ = kDefaultSetpointC;
  bool heater_on_ = false;
  std::uint64_t rejected_setpoints_ = 0;
};

}  // namespace sil::services
