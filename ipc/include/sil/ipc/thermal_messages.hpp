#pragma once
// The messages of the example thermal system (services/thermal: a heater
// plant, a thermostat and a fault monitor; docs/example-thermal.md "Thermal messages"). Declared
// like the messages in messages.hpp, in a header of their own so the example
// can be read, or removed, in one piece. Units are in the field names:
// _c degrees Celsius, _w watts, _ns nanoseconds of simulated time.
#include <cstdint>
#include <string_view>
#include <tuple>

#include "sil/ipc/field.hpp"
#include "sil/ipc/message.hpp"
#include "sil/ipc/msg_id.hpp"
#include "sil/ipc/wire_types.hpp"

namespace sil::ipc {

// Harness -> Thermostat: the temperature to regulate to. A non-finite value
// is ignored (and counted); any finite value is accepted.
struct SetPoint {
  static constexpr MsgId id = MsgId::SetPoint;
  static constexpr std::string_view name = "SetPoint";

  le_f64 setpoint_c;

  static constexpr auto fields() { return std::tuple{field<&SetPoint::setpoint_c>("setpoint_c")}; }
};
static_assert(sizeof(SetPoint) == 8);

// HeaterPlant -> everyone, once per tick: the temperature at the simulated
// time of the tick, and the heater power in effect at that time.
struct PlantTemperature {
  static constexpr MsgId id = MsgId::PlantTemperature;
  static constexpr std::string_view name = "PlantTemperature";

  le_f64 temperature_c;
  le_f64 heater_power_w;

  static constexpr auto fields() {
    return std::tuple{field<&PlantTemperature::temperature_c>("temperature_c"),
                      field<&PlantTemperature::heater_power_w>("heater_power_w")};
  }
};
static_assert(sizeof(PlantTemperature) == 16);

// Thermostat -> HeaterPlant: the heater power to apply from now on. The plant
// clamps it to [0, HeaterPlant::kMaxPowerW] and ignores a non-finite value.
struct HeaterCommand {
  static constexpr MsgId id = MsgId::HeaterCommand;
  static constexpr std::string_view name = "HeaterCommand";

  le_f64 power_w;

  static constexpr auto fields() { return std::tuple{field<&HeaterCommand::power_w>("power_w")}; }
};
static_assert(sizeof(HeaterCommand) == 8);

// FaultMonitor -> harness, on each edge only: once when the fault is raised
// (active = 1) and once when it clears (active = 0).
struct OverTemperatureFault {
  static constexpr MsgId id = MsgId::OverTemperatureFault;
  static constexpr std::string_view name = "OverTemperatureFault";

  std::uint8_t active;   // 1: raised by this reading, 0: cleared by it
  le_f64 temperature_c;  // the reading that raised or cleared it
  le_u64 raised_at_ns;   // when this fault was raised; a clear repeats its raise's time

  static constexpr auto fields() {
    using F = OverTemperatureFault;
    return std::tuple{field<&F::active>("active"), field<&F::temperature_c>("temperature_c"),
                      field<&F::raised_at_ns>("raised_at_ns")};
  }
};
static_assert(sizeof(OverTemperatureFault) == 17);

}  // namespace sil::ipc
