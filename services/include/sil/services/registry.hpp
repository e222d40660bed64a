#pragma once
// The services a simulation runs, in the order they tick. Adding a service
// is one line here; sil-sim and every other target pick it up.
#include "sil/services/heartbeat_service.hpp"
#include "sil/services/revision_service.hpp"
#include "sil/services/thermal/fault_monitor.hpp"
#include "sil/services/thermal/heater_plant.hpp"
#include "sil/services/thermal/thermostat.hpp"

namespace sil::services {

template <class... Services>
struct ServiceList {};

// Of the thermal example only HeaterPlant ticks; its reading reaches the
// Thermostat and then the FaultMonitor within the same tick, in list order
// (docs/example-thermal.md "One tick").
using RegisteredServices = ServiceList<RevisionService, HeartbeatService, HeaterPlant, Thermostat, FaultMonitor>;

}  // namespace sil::services
