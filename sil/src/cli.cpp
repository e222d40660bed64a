#include "cli.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <optional>

namespace sil::app {

namespace {

template <class T>
std::optional<T> parse_number(std::string_view text, T min, T max) {
  T value{};
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end || value < min || value > max) return std::nullopt;
  return value;
}

std::optional<double> parse_speed(const std::string& text) {
  double value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end || !core::valid_speed(value)) {
    return std::nullopt;
  }
  return value;
}

bool is_ipv4(const std::string& text) {
  in_addr address{};
  return ::inet_pton(AF_INET, text.c_str(), &address) == 1;
}

}  // namespace

std::string usage() {
  return "usage: sil-sim [--bind ADDR] [--port N] [--rate HZ] [--clock MODE] [--speed X]\n"
         "               [--egress MODE] [--record PATH] [--help]\n"
         "       sil-sim --replay PATH [--record PATH]\n"
         "\n"
         "Runs the simulation and bridges its bus to one UDP peer.\n"
         "\n"
         "  --bind ADDR  IPv4 address to listen on (default 127.0.0.1)\n"
         "  --port N     UDP port, 0 lets the kernel pick one (default 0)\n"
         "  --rate HZ    simulation ticks per second, 1-" +
         std::to_string(kMaxRateHz) +
         " (default 100)\n"
         "  --clock MODE realtime: ticks paced by the wall clock (default)\n"
         "               fast: ticks back to back, as fast as the services allow\n"
         "               step: ticks only when a harness sends an Advance request\n"
         "  --speed X    realtime clock only: X times the wall clock, 0 < X <= 1e6 (default 1)\n"
         "  --egress MODE\n"
         "               per-message: one zero-copy sendmsg per published message (default)\n"
         "               batched: a tick's messages are copied and sent together at its end\n"
         "               (one sendmmsg; runs of equal-sized messages as one UDP GSO send)\n"
         "  --record PATH\n"
         "               record every message, control request and reply to PATH\n"
         "               (any clock; SIGINT or SIGTERM finalise the file)\n"
         "  --replay PATH\n"
         "               re-inject PATH's injected messages into a fresh simulation on the\n"
         "               step clock and compare what it publishes with the recording; prints\n"
         "               one JSON line {\"event\": \"replay\", ..., \"identical\": ...};\n"
         "               exit status 0 if identical, 1 if not\n"
         "  --help       print this and exit\n"
         "\n"
         "When ready, prints one JSON line to stdout: {\"event\": \"ready\", \"port\": N, ...}.\n"
         "Logs go to stderr. SIGINT or SIGTERM stops it with exit status 0.\n"
         "Exit status 2: a bad command line, or a recording that cannot be replayed.\n";
}

std::variant<Options, CliError> parse_args(std::span<const std::string_view> args) {
  Options options;
  bool clock_given = false;
  bool speed_given = false;
  std::string_view live_flag;  // a flag for a live run, which --replay does not take
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view flag = args[i];
    std::optional<std::string_view> value;
    if (const auto eq = flag.find('='); flag.starts_with("--") && eq != std::string_view::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    }
    if (flag == "--help" || flag == "-h") {
      if (value) return CliError{std::string(flag) + " takes no value"};
      options.help = true;
      continue;
    }
    if (flag != "--bind" && flag != "--port" && flag != "--rate" && flag != "--clock" && flag != "--speed" &&
        flag != "--egress" && flag != "--record" && flag != "--replay") {
      return CliError{"unknown option '" + std::string(args[i]) + "'"};
    }
    if (!value) {
      if (i + 1 >= args.size()) return CliError{std::string(flag) + " needs a value"};
      value = args[++i];
    }
    const std::string text(*value);
    if (flag == "--record" || flag == "--replay") {
      if (text.empty()) return CliError{std::string(flag) + " needs a file path"};
      (flag == "--record" ? options.record_path : options.replay_path) = text;
      continue;
    }
    live_flag = flag;
    if (flag == "--bind") {
      if (!is_ipv4(text)) return CliError{"--bind: '" + text + "' is not an IPv4 address"};
      options.bind = text;
    } else if (flag == "--port") {
      const auto port = parse_number<std::uint32_t>(text, 0, 65535);
      if (!port) return CliError{"--port: '" + text + "' is not a port number (0-65535)"};
      options.port = static_cast<std::uint16_t>(*port);
    } else if (flag == "--clock") {
      const auto mode = core::parse_clock_mode(text);
      if (!mode) return CliError{"--clock: '" + text + "' is not a clock (realtime, fast or step)"};
      options.clock = *mode;
      clock_given = true;
    } else if (flag == "--egress") {
      const auto egress = bridge::parse_egress(text);
      if (!egress) return CliError{"--egress: '" + text + "' is not an egress mode (per-message or batched)"};
      options.egress = *egress;
    } else if (flag == "--speed") {
      const auto speed = parse_speed(text);
      if (!speed) return CliError{"--speed: '" + text + "' is not a speed (a number > 0 and <= 1e6)"};
      options.speed = *speed;
      speed_given = true;
    } else {
      const auto rate = parse_number<std::uint32_t>(text, 1, kMaxRateHz);
      if (!rate) return CliError{"--rate: '" + text + "' is not a rate in Hz (1-" + std::to_string(kMaxRateHz) + ")"};
      options.rate_hz = *rate;
    }
  }
  if (!options.replay_path.empty() && !live_flag.empty()) {
    return CliError{"--replay runs at the recorded rate on the step clock, without a socket: " +
                    std::string(live_flag) + " does not apply"};
  }
  if (!options.replay_path.empty() && options.replay_path == options.record_path) {
    return CliError{"--record: the replay would overwrite the recording it reads ('" + options.record_path + "')"};
  }
  if (speed_given && clock_given && options.clock != core::ClockMode::realtime) {
    return CliError{"--speed applies to the realtime clock only, not --clock " +
                    std::string(core::to_string(options.clock))};
  }
  return options;
}

}  // namespace sil::app
