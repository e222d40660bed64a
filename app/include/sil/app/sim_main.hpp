#pragma once
// sil-sim for one system: its services on a clock, bridged to UDP; or, with
// --replay, a recorded run played back and compared. sil_add_system()
// generates a main() that calls sim_main<System>(); the command line, the
// ready and stopped lines and the exit status are the same for every
// system (docs/sil-sim.md).
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <exception>
#include <optional>
#include <stdexcept>
#include <system_error>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "sil/app/activity_log.hpp"
#include "sil/app/cli.hpp"
#include "sil/app/stopped_line.hpp"
#include "sil/bridge/udp_bridge.hpp"
#include "sil/core/sim_host.hpp"
#include "sil/core/simulation.hpp"
#include "sil/ipc/build_info.hpp"
#include "sil/ipc/catalogue_info.hpp"
#include "sil/record/reader.hpp"
#include "sil/record/record_queue.hpp"
#include "sil/record/recorder.hpp"
#include "sil/record/session.hpp"
#include "sil/record/replay.hpp"
#include "sil/record/writer.hpp"
#include "sil/version.hpp"

namespace sil::app {

namespace detail {

inline void print_ready(std::uint16_t port, const Options& options, const ipc::BuildInfo& build,
                        std::uint32_t catalogue_hash) {
  // One line, flushed: the harness reads it to learn the port.
  std::printf(
      "{\"event\": \"ready\", \"port\": %u, \"bind\": \"%s\", \"rate_hz\": %u, \"clock\": \"%s\", "
      "\"speed\": %g, \"egress\": \"%s\", \"pid\": %d, \"version\": \"%.*s\", \"git_revision\": \"%.*s\", "
      "\"catalogue_hash\": %u, \"sil_version\": \"%s\"}\n",
      static_cast<unsigned>(port), options.bind.c_str(), options.rate_hz,
      std::string(core::to_string(options.clock)).c_str(), options.speed,
      std::string(bridge::to_string(options.egress)).c_str(), static_cast<int>(::getpid()),
      static_cast<int>(build.version.size()), build.version.data(), static_cast<int>(build.git_revision.size()),
      build.git_revision.data(), static_cast<unsigned>(catalogue_hash), kVersion);
  std::fflush(stdout);
}

// --exit-with-parent: a descriptor that becomes readable when the parent
// exits. A pidfd follows the process, not the thread that forked us (unlike
// PR_SET_PDEATHSIG, which fires when that thread ends), and the getppid()
// check after opening it proves it is our parent and not a reused pid: had
// the parent died already, we would have been reparented.
inline int watch_parent(int pid) {
  const auto fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) {
    throw std::system_error(errno, std::generic_category(), "--exit-with-parent: cannot watch process " +
                                                                std::to_string(pid));
  }
  if (::getppid() != pid) {
    ::close(fd);
    throw std::runtime_error("--exit-with-parent: process " + std::to_string(pid) +
                             " is not sil-sim's parent (has it exited already?)");
  }
  return fd;
}

// Once a second, the bridge's news (peer changes, drops, send errors) on stderr.
template <class Bridge>
void log_activity(boost::asio::steady_timer& timer, ActivityLog& log, const Bridge& bridge) {
  timer.expires_after(std::chrono::seconds{1});
  timer.async_wait([&timer, &log, &bridge](const boost::system::error_code& ec) {
    if (ec) return;
    const std::string lines = log.report(bridge.stats(), bridge.active_peer());
    if (!lines.empty()) std::fputs(lines.c_str(), stderr);
    log_activity(timer, log, bridge);
  });
}

// sil-sim's remarks on stderr, one line each.
inline void log_line(std::string_view line) {
  std::fprintf(stderr, "sil-sim: %.*s\n", static_cast<int>(line.size()), line.data());
}

// A recording in progress, with its writer thread (the owner's, as the
// library asks: started here, stopped by finish()).
class Recording {
 public:
  Recording(const std::string& path, std::uint32_t rate_hz, sil::core::ClockMode clock,
            const ipc::CatalogueInfo& catalogue, const ipc::BuildInfo& build,
            std::vector<ipc::ParamAssignment> params)
      : session_(path, {&catalogue, build, rate_hz, std::string(sil::core::to_string(clock)), 0, std::move(params)},
                 log_line),
        thread_([this](std::stop_token stop) { session_.run(stop); }) {}

  template <class Origin>
  sil::record::Recorder<Origin> recorder(const ipc::SimClock& clock, const Origin& origin) {
    return session_.recorder(clock, origin);
  }

  // Writes the rest and the footer; returns the counters as JSON.
  std::string finish(std::uint64_t end_sim_time_ns) {
    thread_.request_stop();
    thread_.join();
    return session_.finish(end_sim_time_ns);
  }

 private:
  sil::record::Session session_;
  std::jthread thread_;
};

// Runs the host until SIGINT/SIGTERM stop the io_context.
template <class Host, class Bridge>
void serve(boost::asio::io_context& io, Bridge& bridge, Host& host, const Options& options,
           const ipc::BuildInfo& build) {
  std::jthread rx_thread;
  if (!host.receives_on_sim_thread()) rx_thread = std::jthread([&bridge](std::stop_token stop) { bridge.run_rx(stop); });
  host.start();
  sil::app::ActivityLog activity;
  boost::asio::steady_timer activity_timer(io);
  log_activity(activity_timer, activity, bridge);
  print_ready(bridge.port(), options, build, host.catalogue().hash);
  std::fprintf(stderr, "sil-sim: listening on %s:%u at %u Hz, %s clock; %s\n", options.bind.c_str(),
               static_cast<unsigned>(bridge.port()), options.rate_hz,
               std::string(sil::core::to_string(options.clock)).c_str(),
               sil::app::describe_peer_rules(options).c_str());
  if (const std::string warning = sil::app::exposure_warning(options); !warning.empty()) {
    std::fprintf(stderr, "sil-sim: %s\n", warning.c_str());
  }

  io.run();

  if (rx_thread.joinable()) {
    rx_thread.request_stop();
    rx_thread.join();
  }
}

// What a recording marks as injected: what the bridge publishes, and the
// fault stage's copy of it when a fault changed or delayed it.
template <class Bridge, class Sim>
struct InjectedOrigin {
  const Bridge& bridge;
  Sim& sim;
  bool is_injecting(const void* payload) const noexcept {
    if constexpr (Sim::kFaultInjection) {
      if (sim.fault_stage().is_injected_copy(payload)) return true;
    }
    return bridge.is_injecting(payload);
  }
};

// --param and --params, in command-line order (a later value for a
// parameter replaces an earlier one), read as the catalogue's parameter
// types; or the error to print. The rules (range, read only) are checked
// when the simulation is built with them.
inline std::variant<std::vector<ipc::ParamAssignment>, std::string> param_args(const ipc::CatalogueInfo& catalogue,
                                                                                const Options& options) {
  std::vector<ipc::ParamAssignment> set;
  const auto add = [&](const std::string& where, std::string_view text) -> std::optional<std::string> {
    auto parsed = core::parse_assignment(catalogue.params, text);
    if (auto* error = std::get_if<std::string>(&parsed)) return where + ": " + *error;
    auto& assignment = std::get<ipc::ParamAssignment>(parsed);
    std::erase_if(set, [&](const auto& earlier) { return earlier.name == assignment.name; });
    set.push_back(std::move(assignment));
    return std::nullopt;
  };
  for (const auto& source : options.params) {
    if (!source.file) {
      if (auto error = add("--param", source.text)) return *error;
      continue;
    }
    auto lines = read_params_file(source.text);
    if (auto* error = std::get_if<CliError>(&lines)) return "--params " + source.text + ": " + error->message;
    for (const auto& [number, text] : std::get<std::vector<std::pair<std::size_t, std::string>>>(lines)) {
      if (auto error = add("--params " + source.text + ":" + std::to_string(number), text)) return *error;
    }
  }
  return set;
}

template <class System>
int run(const Options& options, const ipc::BuildInfo& build) {
  using Sim = core::Simulation<System>;
  using Bridge = bridge::UdpBridge<typename Sim::Catalogue>;
  boost::asio::io_context io(1);
  // Registered before anything can fail or block, so a SIGTERM sent any
  // time after the ready line stops the loop cleanly.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&io](const boost::system::error_code& ec, int) {
    if (!ec) io.stop();
  });

  boost::asio::posix::stream_descriptor parent(io);
  if (options.exit_with_parent != 0) {
    parent.assign(watch_parent(options.exit_with_parent));
    parent.async_wait(boost::asio::posix::descriptor_base::wait_read, [&io, &options](const boost::system::error_code& ec) {
      if (ec) return;
      std::fprintf(stderr, "sil-sim: parent process %d exited; stopping\n", options.exit_with_parent);
      io.stop();
    });
  }

  Bridge bridge({.bind_address = options.bind,
                                     .port = options.port,
                                     .egress = options.egress,
                                     .allow = options.allow,
                                     .peer = options.peer});
  const auto catalogue = Sim::catalogue_info();
  auto parsed = param_args(catalogue, options);
  if (const auto* error = std::get_if<std::string>(&parsed)) {
    std::fprintf(stderr, "sil-sim: %s\n", error->c_str());
    return 2;
  }
  auto& params = std::get<std::vector<ipc::ParamAssignment>>(parsed);
  std::optional<Sim> built;
  try {
    built.emplace(options.rate_hz, build, params);
  } catch (const core::ParamError& e) {
    std::fprintf(stderr, "sil-sim: --param: %s\n", e.what());
    return 2;
  }
  Sim& sim = *built;
  if constexpr (Sim::kFaultInjection) {
    // So a fault's copy of an injected message is still known as injected.
    sim.fault_stage().set_origin(&bridge, [](const void* context, const void* payload) {
      return static_cast<const Bridge*>(context)->is_injecting(payload);
    });
  }
  const sil::core::HostConfig config{.clock = options.clock,
                                     .speed = options.speed,
                                     .log = log_line};
  std::string recording_stats;
  std::uint64_t overruns = 0;
  if (options.record_path.empty()) {
    sil::core::SimHost host(io, sim, bridge, config);
    serve(io, bridge, host, options, build);
    overruns = host.overruns();
  } else {
    Recording recording(options.record_path, options.rate_hz, options.clock, catalogue, build, std::move(params));
    const InjectedOrigin<Bridge, Sim> origin{bridge, sim};
    auto recorder = recording.recorder(sim.clock(), origin);
    sil::core::SimHost host(io, sim, bridge, config, recorder);
    serve(io, bridge, host, options, build);
    overruns = host.overruns();
    recording_stats = recording.finish(sim.clock().now_ns());
  }
  // The last line on stderr, so tools read the counters without parsing prose.
  std::fprintf(stderr, "%s\n", stopped_line(bridge.stats(), sim.clock().tick(), overruns, sim.counters(), recording_stats).c_str());
  return 0;
}

// --replay: exit 0 if the replay published the recorded trace, 1 if not,
// 2 if the recording cannot be replayed.
template <class System>
int replay(const Options& options, const ipc::BuildInfo& build) {
  using Sim = core::Simulation<System>;
  const auto catalogue = Sim::catalogue_info();
  std::optional<sil::record::MappedFile> file;
  std::optional<sil::record::Replay> replay;
  try {
    file.emplace(options.replay_path);
    replay.emplace(file->bytes(), catalogue);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sil-sim: --replay %s: %s\n", options.replay_path.c_str(), e.what());
    return 2;
  }
  if (!replay->warning().empty()) {
    std::fprintf(stderr, "sil-sim: warning: --replay %s: %s\n", options.replay_path.c_str(), replay->warning().c_str());
  }
  std::optional<Sim> built;
  try {
    built.emplace(replay->rate_hz(), build, replay->start_params());
  } catch (const core::ParamError& e) {
    std::fprintf(stderr, "sil-sim: --replay %s: a parameter in its header: %s\n", options.replay_path.c_str(), e.what());
    return 2;
  }
  Sim& sim = *built;
  sil::record::ReplayResult result;
  if (options.record_path.empty()) {
    result = replay->run(sim);
  } else {
    std::optional<Recording> recording;
    try {
      recording.emplace(options.record_path, replay->rate_hz(), sil::core::ClockMode::step, catalogue, build,
                        replay->start_params());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "sil-sim: --record: %s\n", e.what());
      return 2;
    }
    auto recorder = recording->recorder(sim.clock(), *replay);
    result = replay->run(sim, recorder);
    std::fprintf(stderr, "sil-sim: recorded the replay to %s: %s\n", options.record_path.c_str(),
                 recording->finish(sim.clock().now_ns()).c_str());
  }
  std::printf("%s\n", sil::record::to_json(result).c_str());
  std::fflush(stdout);
  return result.identical() ? 0 : 1;
}

}  // namespace detail

// The whole of sil-sim for System: parses the command line, runs or
// replays, and returns the exit status. `build` is the system's build
// (generated by sil_add_system).
template <class System>
int sim_main(int argc, char** argv, const ipc::BuildInfo& build) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  const auto parsed = parse_args(args);
  if (const auto* error = std::get_if<CliError>(&parsed)) {
    std::fprintf(stderr, "sil-sim: %s\nTry 'sil-sim --help'.\n", error->message.c_str());
    return 2;
  }
  const auto& options = std::get<Options>(parsed);
  if (options.help) {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }
  if (!options.replay_path.empty()) return detail::replay<System>(options, build);
  try {
    return detail::run<System>(options, build);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sil-sim: %s\n", e.what());
    return 1;
  }
}

}  // namespace sil::app
