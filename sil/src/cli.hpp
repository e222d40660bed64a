#pragma once
// sil-sim's command line. Parsing is separate from main() so every flag and
// every error message is unit-tested.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "sil/bridge/udp_bridge.hpp"
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
  bool help = false;
};

struct CliError {
  std::string message;  // one line, no program name, e.g. "--port: '70000' is not a port number (0-65535)"
};

inline constexpr std::uint32_t kMaxRateHz = 100'000;

// args excludes the program name.
std::variant<Options, CliError> parse_args(std::span<const std::string_view> args);

std::string usage();

}  // namespace sil::app
