#pragma once
// The system a HIL rig runs: the thermal example's software under test (the
// Thermostat and the FaultMonitor) with the real plant outside it. The
// heater and its temperature sensor are hardware here; in this example a
// stand-in driver thread plays them (stand_in_heater.hpp).
#include <sil/core/system.hpp>

#include "thermal/fault_monitor.hpp"
#include "thermal/messages.hpp"
#include "thermal/thermostat.hpp"

namespace hil_rig {

struct System : sil::SystemDefaults {
  using messages = sil::Messages<thermal::SetPoint, thermal::PlantTemperature, thermal::HeaterCommand,
                                 thermal::OverTemperatureFault>;
  using services = sil::Services<sil::Instance<"thermostat", thermal::Thermostat>,  //
                                 sil::Instance<"monitor", thermal::FaultMonitor>>;
};

}  // namespace hil_rig
