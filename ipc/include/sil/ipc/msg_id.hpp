#pragma once
// Message ids. A MsgId is a u16 on the wire; the framework's own ids are
// named here, and a user's message picks any id outside the reserved ranges
// (docs/services.md "Message ids"). The numeric values are part of the wire
// contract: never renumber an entry.
#include <cstdint>

namespace sil::ipc {

enum class MsgId : std::uint16_t {
  // The framework's messages (messages.hpp), in every system.
  RevisionRequest = 2000,
  RevisionResponse = 2001,
  Heartbeat = 2002,

  // The control plane: the payload is a protobuf message of variable length
  // (sil/proto/sil_control.proto), not a catalogue struct.
  ControlRequest = 0xFFF0,
  ControlReply = 0xFFF1,
  // Several datagrams in one, sent only to a harness that asked for them in
  // its Hello (bridge/include/sil/bridge/bundle.hpp).
  Bundle = 0xFFF2,
};

// 2000-2099 belong to the framework's messages, present and future.
inline constexpr std::uint16_t kFirstFrameworkId = 2000;
inline constexpr std::uint16_t kLastFrameworkId = 2099;
// Ids at or above this are control-plane ids, never catalogue messages.
inline constexpr std::uint16_t kFirstReservedId = 0xFF00;

constexpr bool is_framework_id(std::uint16_t id) noexcept { return id >= kFirstFrameworkId && id <= kLastFrameworkId; }
constexpr bool is_control_plane_id(std::uint16_t id) noexcept { return id >= kFirstReservedId; }
// True for an id a user's message may not take.
constexpr bool is_reserved_id(std::uint16_t id) noexcept { return is_framework_id(id) || is_control_plane_id(id); }

}  // namespace sil::ipc
