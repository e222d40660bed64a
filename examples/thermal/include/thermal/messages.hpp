#pragma once
// The messages of the example thermal system (a heater plant, a thermostat
// and a fault monitor; docs/example-thermal.md). Each is declared once, here;
// the system (system.hpp) lists them. Units are in the field names: _c
// degrees Celsius, _w watts, _ns nanoseconds of simulated time. Ids
// 2100-2199 are the example's.
#include <sil/ipc/declare.hpp>

namespace thermal {

// Harness -> Thermostat: the temperature to regulate to. A non-finite value
// is ignored (and counted); any finite value is accepted.
SIL_MESSAGE(SetPoint, 2100,
            (sil::f64, setpoint_c));
static_assert(sizeof(SetPoint) == 8);

// HeaterPlant -> everyone, once per tick: the temperature at the simulated
// time of the tick, and the heater power in effect at that time.
SIL_MESSAGE(PlantTemperature, 2101,
            (sil::f64, temperature_c),
            (sil::f64, heater_power_w));
static_assert(sizeof(PlantTemperature) == 16);

// Thermostat -> HeaterPlant: the heater power to apply from now on. The plant
// clamps it to [0, HeaterPlant::kMaxPowerW] and ignores a non-finite value.
SIL_MESSAGE(HeaterCommand, 2102,
            (sil::f64, power_w));
static_assert(sizeof(HeaterCommand) == 8);

// FaultMonitor -> harness, on each edge only: once when the fault is raised
// (active = 1) and once when it clears (active = 0).
SIL_MESSAGE(OverTemperatureFault, 2103,
            (sil::u8, active),            // 1: raised by this reading, 0: cleared by it
            (sil::f64, temperature_c),    // the reading that raised or cleared it
            (sil::u64, raised_at_ns));    // when this fault was raised; a clear repeats its raise's time
static_assert(sizeof(OverTemperatureFault) == 17);

}  // namespace thermal
