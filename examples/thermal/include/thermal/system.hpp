#pragma once
// The example system: its messages and its services, in tick order. Of these
// only HeaterPlant ticks; its reading reaches the Thermostat and then the
// FaultMonitor within the same tick, in this order (docs/example-thermal.md).
#include <sil/core/system.hpp>

#include "thermal/fault_monitor.hpp"
#include "thermal/heater_plant.hpp"
#include "thermal/messages.hpp"
#include "thermal/thermostat.hpp"

namespace thermal {

struct System : sil::SystemDefaults {
  using messages = sil::Messages<SetPoint, PlantTemperature, HeaterCommand, OverTemperatureFault>;
  using services = sil::Services<sil::Instance<"plant", HeaterPlant>,         //
                                 sil::Instance<"thermostat", Thermostat>,     //
                                 sil::Instance<"monitor", FaultMonitor>>;
};

}  // namespace thermal
