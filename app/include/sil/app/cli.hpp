#pragma once
// sil-sim's command line. Parsing is separate from main() so every flag and
// every error message is unit-tested.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <utility>
#include <vector>

#include "sil/bridge/allow_list.hpp"
#include "sil/bridge/peer_policy.hpp"
#include "sil/bridge/bridge_core.hpp"
#include "sil/core/control.hpp"

namespace sil::app {

struct Options {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 0;
  std::uint32_t rate_hz = 100;
  core::ClockMode clock = core::ClockMode::realtime;
  double speed = 1.0;
  bridge::Egress egress = bridge::Egress::per_message;
  std::string record_path;  // --record: empty when not recording
  std::string replay_path;  // --replay: empty for a live run
  bridge::AllowList allow;  // --allow, repeatable; empty: anyone
  bridge::PeerRules peer;   // --peer-policy, --peer-takeover-after, --peer-idle-timeout
  int exit_with_parent = 0;  // --exit-with-parent PID; 0: not given
  // --param NAME=VALUE and --params FILE, in command-line order (a later
  // value for a parameter wins); read and checked once the system is known.
  struct ParamSource {
    bool file = false;  // a --params FILE, else one --param
    std::string text;   // NAME=VALUE, or the file's path
  };
  std::vector<ParamSource> params;
  bool help = false;
};

struct CliError {
  std::string message;  // one line, no program name, e.g. "--port: '70000' is not a port number (0-65535)"
};

inline constexpr std::uint32_t kMaxRateHz = 100'000;
// Bounds of the peer durations: a millisecond (the rx thread's poll
// resolution) to a day.
inline constexpr std::chrono::nanoseconds kMinPeerDuration = std::chrono::milliseconds{1};
inline constexpr std::chrono::nanoseconds kMaxPeerDuration = std::chrono::hours{24};

// "500ms", "2s", "1.5s", "24h": a number and a unit (ns, us, ms, s, h), within
// the bounds above.
std::optional<std::chrono::nanoseconds> parse_peer_duration(std::string_view text);

// args excludes the program name.
std::variant<Options, CliError> parse_args(std::span<const std::string_view> args);

std::string usage();

// A --params file: its NAME=VALUE lines with their line numbers; blank lines
// and # comments are skipped, spaces around the line are not part of it.
std::variant<std::vector<std::pair<std::size_t, std::string>>, CliError> read_params_file(const std::string& path);

// For the start-up log: "peer policy sticky (takeover after 2s), idle timeout
// off, allow 10.0.0.0/8" (or "allow anyone").
std::string describe_peer_rules(const Options& options);

// A warning for a sim that listens beyond loopback with no --allow: anyone
// who can reach the host may inject and take the telemetry. Empty otherwise.
std::string exposure_warning(const Options& options);

// "2s", "500ms", "1500us", "7ns": the largest unit that divides it.
std::string format_duration(std::chrono::nanoseconds duration);

}  // namespace sil::app
