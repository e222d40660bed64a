#pragma once
// Every message id the project knows, in one place. The numeric values are
// part of the wire contract (docs/wire-format.md "Messages"): never renumber an entry.
#include <cstdint>

namespace sil::ipc {

enum class MsgId : std::uint16_t {
  RevisionRequest = 2000,
  RevisionResponse = 2001,
  Heartbeat = 2002,

  // The example thermal system (services/thermal): 2100-2199.
  SetPoint = 2100,
  PlantTemperature = 2101,
  HeaterCommand = 2102,
  OverTemperatureFault = 2103,

  // Reserved for the control plane: the payload is a protobuf message of
  // variable length (control/sil_control.proto), not a catalogue struct.
  ControlRequest = 0xFFF0,
  ControlReply = 0xFFF1,
  // Several datagrams in one, sent only to a harness that asked for them in
  // its Hello (bridge/include/sil/bridge/bundle.hpp, docs/wire-format.md "Bundles").
  Bundle = 0xFFF2,
};

// Ids at or above this are control-plane ids, never catalogue messages.
inline constexpr std::uint16_t kFirstReservedId = 0xFF00;

}  // namespace sil::ipc
