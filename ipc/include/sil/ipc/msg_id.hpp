#pragma once
// Every message id the project knows, in one place. The numeric values are
// part of the wire contract (README "Wire format"): never renumber an entry.
#include <cstdint>

namespace sil::ipc {

enum class MsgId : std::uint16_t {
  RevisionRequest = 2000,
  RevisionResponse = 2001,
  Heartbeat = 2002,
};

}  // namespace sil::ipc
