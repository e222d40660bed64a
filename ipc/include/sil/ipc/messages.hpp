#pragma once
// Every payload the bus carries. Each struct is the single declaration of its
// message: the id binding, the Python class and the catalogue entry are all
// derived from it. To add a message: add its id to msg_id.hpp, declare the
// struct here, and list it in catalogue.hpp. The static_asserts pin the
// sizes that docs/wire-format.md "Messages" documents.
#include <cstdint>
#include <string_view>
#include <tuple>

#include "sil/ipc/field.hpp"
#include "sil/ipc/message.hpp"
#include "sil/ipc/msg_id.hpp"
#include "sil/ipc/wire_types.hpp"

namespace sil::ipc {

// Asks which build the simulation runs. Answered by RevisionResponse.
struct RevisionRequest {
  static constexpr MsgId id = MsgId::RevisionRequest;
  static constexpr std::string_view name = "RevisionRequest";

  le_u32 request_id;

  static constexpr auto fields() { return std::tuple{field<&RevisionRequest::request_id>("request_id")}; }
};
static_assert(sizeof(RevisionRequest) == 4);

// Identifies the build a harness is talking to.
struct RevisionResponse {
  static constexpr MsgId id = MsgId::RevisionResponse;
  static constexpr std::string_view name = "RevisionResponse";

  // Bits of build_flags.
  static constexpr std::uint8_t kDirtyTree = 1U << 0;    // built from uncommitted changes
  static constexpr std::uint8_t kAssertions = 1U << 1;  // built without NDEBUG

  le_u32 request_id;  // echoes the request
  std::uint8_t version_major;
  std::uint8_t version_minor;
  std::uint8_t version_patch;
  std::uint8_t build_flags;
  FixedString<40> git_revision;  // full hex SHA-1, or "unknown"
  le_i64 build_time_unix;        // seconds since 1970-01-01 UTC
  le_u32 catalogue_hash;         // changes whenever any message layout changes
  std::uint8_t wire_version;
  le_u32 tick_rate_hz;

  static constexpr auto fields() {
    using R = RevisionResponse;
    return std::tuple{field<&R::request_id>("request_id"),
                      field<&R::version_major>("version_major"),
                      field<&R::version_minor>("version_minor"),
                      field<&R::version_patch>("version_patch"),
                      field<&R::build_flags>("build_flags"),
                      field<&R::git_revision>("git_revision"),
                      field<&R::build_time_unix>("build_time_unix"),
                      field<&R::catalogue_hash>("catalogue_hash"),
                      field<&R::wire_version>("wire_version"),
                      field<&R::tick_rate_hz>("tick_rate_hz")};
  }
};
static_assert(sizeof(RevisionResponse) == 65);

// Published periodically so a harness always sees the simulation is alive.
struct Heartbeat {
  static constexpr MsgId id = MsgId::Heartbeat;
  static constexpr std::string_view name = "Heartbeat";

  le_u32 sequence;     // 0, 1, 2, ... per heartbeat
  le_u64 tick;         // simulation tick at which it was published
  le_u64 sim_time_ns;  // simulated time since start

  static constexpr auto fields() {
    return std::tuple{field<&Heartbeat::sequence>("sequence"), field<&Heartbeat::tick>("tick"),
                      field<&Heartbeat::sim_time_ns>("sim_time_ns")};
  }
};
static_assert(sizeof(Heartbeat) == 20);

}  // namespace sil::ipc
