#pragma once
// The control plane's requests and replies as plain C++ values, and their
// protobuf encoding (sil/proto/sil_control.proto). Parsing validates every
// argument, so a command that comes out of parse_control() can be carried
// out as it is; everything else becomes an error reply that names the
// problem. Protobuf stays inside control.cpp.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "sil/core/faults.hpp"
#include "sil/core/param_table.hpp"
#include "sil/core/watch.hpp"
#include "sil/ipc/build_info.hpp"
#include "sil/ipc/catalogue_info.hpp"
#include "sil/ipc/log_sink.hpp"

namespace sil::core {

using sil::LogSink;  // a host's remarks go there (ipc/log_sink.hpp)

enum class ClockMode : std::uint8_t { realtime, fast, step };
std::string_view to_string(ClockMode mode) noexcept;
std::optional<ClockMode> parse_clock_mode(std::string_view text) noexcept;

enum class ControlErrorCode : std::uint8_t {
  malformed = 1,
  unknown_command = 2,
  invalid_argument = 3,
  wrong_clock = 4,
  busy = 5,
  too_large = 6,
};

struct ControlError {
  std::uint32_t sequence = 0;
  ControlErrorCode code = ControlErrorCode::malformed;
  std::string message;
};

struct HelloCommand {
  std::uint32_t catalogue_hash = 0;
  std::uint32_t bundle_bytes = 0;  // asked for; 0: no bundles
};
struct AdvanceCommand {
  std::uint64_t ticks = 0;  // set when advancing by ticks
  std::uint64_t duration_ns = 0;  // set when advancing by time (or the until's limit)
  std::optional<WatchSpec> until;
};
struct PauseCommand {};
struct ResumeCommand {};
struct SetSpeedCommand {
  double speed = 1.0;
};
struct GetStatsCommand {};
struct GetCatalogueCommand {};
struct GetParamsCommand {
  std::vector<std::string> names;  // empty: all
};
struct SetParamsCommand {
  std::vector<ParamAssignment> assignments;  // not yet checked against the table
};
struct AddFaultCommand {
  FaultSpec spec;  // kind and op parsed; not yet checked against the catalogue
};
struct RemoveFaultCommand {
  std::uint32_t id = 0;  // 0: all
};
struct ListFaultsCommand {};

using ControlAction = std::variant<HelloCommand, AdvanceCommand, PauseCommand, ResumeCommand, SetSpeedCommand,
                                   GetStatsCommand, GetCatalogueCommand, GetParamsCommand, SetParamsCommand,
                                   AddFaultCommand, RemoveFaultCommand, ListFaultsCommand>;

struct ControlCommand {
  std::uint32_t sequence = 0;
  ControlAction action;
};

inline constexpr double kMaxSpeed = 1e6;
// The one rule for a realtime speed, from the command line or set_speed.
inline bool valid_speed(double speed) noexcept { return speed > 0.0 && speed <= kMaxSpeed; }  // false for NaN

// `catalogue` is the system's: an until names one of its messages.
std::variant<ControlCommand, ControlError> parse_control(std::span<const std::byte> request,
                                                         const ipc::CatalogueInfo& catalogue);

// Where the simulation stands; every reply carries the time fields.
struct HostStatus {
  ClockMode clock = ClockMode::realtime;
  std::uint32_t rate_hz = 0;
  double speed = 1.0;
  bool paused = false;
  std::uint64_t sim_time_ns = 0;
  std::uint64_t tick = 0;
};

struct IdCount {
  std::uint16_t msg_id;
  std::string_view name;
  std::uint64_t count;
};

struct StatsSnapshot {
  std::uint64_t ticks = 0;
  std::uint64_t overruns = 0;
  std::vector<IdCount> published, received, sent;
  std::vector<std::pair<std::string_view, std::uint64_t>> drops;
  std::uint64_t tx_errors = 0;
  std::vector<std::pair<std::string_view, std::uint64_t>> tx_errors_by_reason;
  std::uint64_t tx_no_peer = 0;
  std::uint64_t peer_changes = 0;
  std::uint64_t peer_expiries = 0;
  std::uint64_t rx_not_peer = 0;
  std::uint64_t control_requests = 0;
  std::uint64_t control_errors = 0;
  std::uint64_t trace_digest = 0;
  std::uint64_t trace_count = 0;
  std::vector<std::pair<std::string_view, std::uint64_t>> counters;  // the services': "<instance>.<counter>"
};

struct AdvanceOutcome {
  std::uint64_t ticks_run = 0;
  bool matched = false;
  std::span<const std::byte> matched_payload;
  std::uint64_t matched_at_ns = 0;
};

// Serialized Reply messages (without the 2-byte header).
std::string encode_ready(std::uint32_t sequence, const HostStatus& status, std::uint32_t client_catalogue_hash,
                         std::uint32_t bundle_bytes, const ipc::CatalogueInfo& catalogue, const ipc::BuildInfo& build);
std::string encode_advanced(std::uint32_t sequence, const HostStatus& status, const AdvanceOutcome& outcome);
std::string encode_ack(std::uint32_t sequence, const HostStatus& status);
std::string encode_stats(std::uint32_t sequence, const HostStatus& status, const StatsSnapshot& stats);
std::string encode_catalogue(std::uint32_t sequence, const HostStatus& status, const ipc::CatalogueInfo& catalogue);
std::string encode_error(const ControlError& error, const HostStatus& status);
// Params: the named parameters' values (all of them when `names` is empty;
// a name the table does not have is left out).
// Faults: whether this sim has fault injection, the kinds, every fault with
// its count, and (add_fault) the new one's id.
std::string encode_faults(std::uint32_t sequence, const HostStatus& status, const FaultSet& faults,
                          std::uint32_t added = 0);
std::string encode_params(std::uint32_t sequence, const HostStatus& status, const ParamTable& table,
                          const std::vector<std::string>& names);

}  // namespace sil::core
