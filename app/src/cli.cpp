#include "sil/app/cli.hpp"

#include <fstream>
#include <arpa/inet.h>

#include <charconv>
#include <limits>
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

std::optional<bridge::PeerPolicy> parse_policy(std::string_view text) {
  for (const auto policy : {bridge::PeerPolicy::last_sender, bridge::PeerPolicy::sticky}) {
    if (text == bridge::to_string(policy)) return policy;
  }
  return std::nullopt;
}

bool is_ipv4(const std::string& text) {
  in_addr address{};
  return ::inet_pton(AF_INET, text.c_str(), &address) == 1;
}

constexpr std::string_view kValueFlags[] = {"--bind",   "--port",        "--rate",
                                            "--clock",  "--speed",       "--egress",
                                            "--allow",  "--peer-policy", "--peer-takeover-after",
                                            "--peer-idle-timeout",       "--exit-with-parent",
                                            "--record", "--replay",      "--param",
                                            "--params"};

bool takes_value(std::string_view flag) {
  for (const auto known : kValueFlags) {
    if (flag == known) return true;
  }
  return false;
}

}  // namespace

std::optional<std::chrono::nanoseconds> parse_peer_duration(std::string_view text) {
  struct Unit {
    std::string_view suffix;
    double ns;
  };
  // "ms" before "s": the first suffix that matches wins.
  static constexpr Unit kUnits[] = {{"ns", 1.0}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"h", 3600e9}};
  for (const auto& unit : kUnits) {
    if (!text.ends_with(unit.suffix)) continue;
    const std::string_view number = text.substr(0, text.size() - unit.suffix.size());
    double value = 0;
    const auto* end = number.data() + number.size();
    const auto [ptr, ec] = std::from_chars(number.data(), end, value);
    if (number.empty() || ec != std::errc{} || ptr != end || !(value >= 0)) return std::nullopt;
    const double ns = value * unit.ns;
    if (!(ns >= static_cast<double>(kMinPeerDuration.count()) && ns <= static_cast<double>(kMaxPeerDuration.count()))) {
      return std::nullopt;
    }
    return std::chrono::nanoseconds(static_cast<std::int64_t>(ns));
  }
  return std::nullopt;
}

std::string format_duration(std::chrono::nanoseconds duration) {
  const auto ns = duration.count();
  if (ns != 0 && ns % 1'000'000'000 == 0) return std::to_string(ns / 1'000'000'000) + "s";
  if (ns != 0 && ns % 1'000'000 == 0) return std::to_string(ns / 1'000'000) + "ms";
  if (ns != 0 && ns % 1'000 == 0) return std::to_string(ns / 1'000) + "us";
  return std::to_string(ns) + "ns";
}

std::string describe_peer_rules(const Options& options) {
  std::string text = "peer policy " + std::string(bridge::to_string(options.peer.policy));
  if (options.peer.policy == bridge::PeerPolicy::sticky) {
    text += " (takeover after " + format_duration(options.peer.takeover_after) + ")";
  }
  text += ", idle timeout ";
  text += options.peer.idle_timeout.count() > 0 ? format_duration(options.peer.idle_timeout) : "off";
  if (options.allow.empty()) return text + ", allow anyone";
  text += ", allow ";
  for (std::size_t i = 0; i < options.allow.size(); ++i) {
    text += (i == 0 ? "" : ", ") + bridge::to_string(options.allow[i]);
  }
  return text;
}

std::string exposure_warning(const Options& options) {
  in_addr address{};
  ::inet_pton(AF_INET, options.bind.c_str(), &address);
  const bool loopback = (ntohl(address.s_addr) >> 24U) == 127U;
  if (loopback || !options.allow.empty()) return {};
  return "warning: listening on " + options.bind +
         " with no --allow: anyone who can reach this host may inject messages and take the telemetry";
}

std::string usage() {
  return "usage: sil-sim [--bind ADDR] [--port N] [--rate HZ] [--clock MODE] [--speed X] [--egress MODE]\n"
         "               [--allow CIDR]... [--peer-policy POLICY] [--peer-takeover-after DURATION]\n"
         "               [--peer-idle-timeout DURATION] [--exit-with-parent PID] [--record PATH]\n"
         "               [--param NAME=VALUE]... [--params FILE]... [--help]\n"
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
         "  --allow CIDR only senders in this IPv4 range (a.b.c.d/n) may inject or become the peer;\n"
         "               repeatable, up to " + std::to_string(bridge::AllowList::kCapacity) +
         " ranges (default: anyone who can reach the bind address)\n"
         "  --peer-policy POLICY\n"
         "               last-sender: any valid datagram makes its sender the peer (default)\n"
         "               sticky: a new sender takes over only after the peer was silent for\n"
         "               --peer-takeover-after, or by sending a Hello\n"
         "  --peer-takeover-after DURATION\n"
         "               sticky only: e.g. 500ms, 2s (default 2s)\n"
         "  --peer-idle-timeout DURATION\n"
         "               a peer silent this long stops receiving telemetry (default: off)\n"
         "  --param NAME=VALUE\n"
         "               set a parameter before the first tick, e.g. thermostat.hysteresis_c=0.8;\n"
         "               repeatable, a later value wins (docs/parameters.md)\n"
         "  --params FILE\n"
         "               the same from a file: one NAME=VALUE per line, # comments\n"
         "  --exit-with-parent PID\n"
         "               stop, as on SIGTERM, when process PID (sil-sim's parent) exits\n"
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
  bool takeover_given = false;
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
    if (!takes_value(flag)) {
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
    if (flag == "--param" || flag == "--params") {
      if (text.empty()) return CliError{std::string(flag) + (flag == "--param" ? " needs NAME=VALUE" : " needs a file path")};
      if (flag == "--param" && text.find('=') == std::string::npos) {
        return CliError{"--param: '" + text + "' is not NAME=VALUE"};
      }
      options.params.push_back({flag == "--params", text});
      continue;
    }
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
    } else if (flag == "--allow") {
      auto cidr = bridge::parse_cidr(text);
      if (const auto* why = std::get_if<std::string>(&cidr)) return CliError{"--allow: " + *why};
      if (!options.allow.add(std::get<bridge::Cidr>(cidr))) {
        return CliError{"--allow: more than " + std::to_string(bridge::AllowList::kCapacity) + " ranges"};
      }
    } else if (flag == "--peer-policy") {
      const auto policy = parse_policy(text);
      if (!policy) return CliError{"--peer-policy: '" + text + "' is not a peer policy (last-sender or sticky)"};
      options.peer.policy = *policy;
    } else if (flag == "--peer-takeover-after" || flag == "--peer-idle-timeout") {
      const auto duration = parse_peer_duration(text);
      if (!duration) {
        return CliError{std::string(flag) + ": '" + text +
                        "' is not a duration from 1ms to 24h (a number and a unit: ns, us, ms, s or h, e.g. 500ms)"};
      }
      if (flag == "--peer-idle-timeout") {
        options.peer.idle_timeout = *duration;
      } else {
        options.peer.takeover_after = *duration;
        takeover_given = true;
      }
    } else if (flag == "--exit-with-parent") {
      const auto pid = parse_number<int>(text, 1, std::numeric_limits<int>::max());
      if (!pid) return CliError{"--exit-with-parent: '" + text + "' is not a process id"};
      options.exit_with_parent = *pid;
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
  if (takeover_given && options.peer.policy != bridge::PeerPolicy::sticky) {
    return CliError{"--peer-takeover-after applies to --peer-policy sticky only"};
  }
  return options;
}


std::variant<std::vector<std::pair<std::size_t, std::string>>, CliError> read_params_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) return CliError{"cannot open '" + path + "'"};
  std::vector<std::pair<std::size_t, std::string>> lines;
  std::string line;
  for (std::size_t number = 1; std::getline(file, line); ++number) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    const auto last = line.find_last_not_of(" \t\r");
    lines.emplace_back(number, line.substr(first, last - first + 1));
  }
  if (file.bad()) return CliError{"cannot read '" + path + "'"};
  return lines;
}

}  // namespace sil::app
