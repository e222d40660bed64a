// sil-sim: the registered services on a realtime clock, bridged to UDP.
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
#include <stdexcept>
#include <system_error>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "activity_log.hpp"
#include "cli.hpp"
#include "sil/bridge/udp_bridge.hpp"
#include "sil/core/sim_host.hpp"
#include "sil/core/simulation.hpp"
#include "sil/ipc/catalogue.hpp"
#include "sil/services/build_info.hpp"

namespace {

void print_ready(const sil::bridge::UdpBridge& bridge, const sil::app::Options& options) {
  const auto& build = sil::services::build_info();
  // One line, flushed: the harness reads it to learn the port.
  std::printf(
      "{\"event\": \"ready\", \"port\": %u, \"bind\": \"%s\", \"rate_hz\": %u, \"clock\": \"%s\", "
      "\"speed\": %g, \"pid\": %d, \"version\": \"%.*s\", \"git_revision\": \"%.*s\", \"catalogue_hash\": %u}\n",
      static_cast<unsigned>(bridge.port()), options.bind.c_str(), options.rate_hz,
      std::string(sil::core::to_string(options.clock)).c_str(), options.speed, static_cast<int>(::getpid()),
      static_cast<int>(build.version.size()), build.version.data(), static_cast<int>(build.git_revision.size()),
      build.git_revision.data(), static_cast<unsigned>(sil::ipc::kCatalogueHash));
  std::fflush(stdout);
}

// The last line on stderr, one JSON object, so tools can read the counters
// without parsing prose (README "Running the simulator").
void log_stopped(const sil::bridge::BridgeStats& s, std::uint64_t ticks, std::uint64_t overruns) {
  using sil::bridge::Verdict;
  auto n = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  std::string rx;
  for (std::size_t i = 0; i < sil::bridge::kVerdictCount; ++i) {
    if (i != 0) rx += ", ";
    rx += "\"" + std::string(sil::bridge::to_string(static_cast<Verdict>(i))) + "\": " + std::to_string(s.rx[i]);
  }
  std::string tx_errors;
  for (std::size_t i = 0; i < sil::bridge::kSendErrorCount; ++i) {
    if (i != 0) tx_errors += ", ";
    tx_errors += "\"" + std::string(sil::bridge::to_string(static_cast<sil::bridge::SendError>(i))) +
                 "\": " + std::to_string(s.tx_errors_by_reason[i]);
  }
  std::fprintf(stderr,
               "{\"event\": \"stopped\", \"ticks\": %llu, \"overruns\": %llu, \"rx\": {%s}, "
               "\"rx_inbox_full\": %llu, \"rx_errors\": %llu, \"tx_sent\": %llu, \"tx_no_peer\": %llu, "
               "\"tx_errors\": %llu, \"peer_changes\": %llu, \"rx_not_allowed\": %llu, \"rx_not_peer\": %llu, "
               "\"peer_expiries\": %llu, \"tx_errors_by_reason\": {%s}}\n",
               n(ticks), n(overruns), rx.c_str(), n(s.rx_inbox_full), n(s.rx_errors), n(s.tx_sent), n(s.tx_no_peer),
               n(s.tx_errors), n(s.peer_changes), n(s.rx_not_allowed), n(s.rx_not_peer), n(s.peer_expiries),
               tx_errors.c_str());
}

// --exit-with-parent: a descriptor that becomes readable when the parent
// exits. A pidfd follows the process, not the thread that forked us (unlike
// PR_SET_PDEATHSIG, which fires when that thread ends), and the getppid()
// check after opening it proves it is our parent and not a reused pid: had
// the parent died already, we would have been reparented.
int watch_parent(int pid) {
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
void log_activity(boost::asio::steady_timer& timer, sil::app::ActivityLog& log,
                  const sil::bridge::UdpBridge& bridge) {
  timer.expires_after(std::chrono::seconds{1});
  timer.async_wait([&timer, &log, &bridge](const boost::system::error_code& ec) {
    if (ec) return;
    const std::string lines = log.report(bridge.stats(), bridge.active_peer());
    if (!lines.empty()) std::fputs(lines.c_str(), stderr);
    log_activity(timer, log, bridge);
  });
}

int run(const sil::app::Options& options) {
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

  sil::bridge::UdpBridge bridge(
      io, {.bind_address = options.bind, .port = options.port, .allow = options.allow, .peer = options.peer});
  sil::core::DefaultSimulation sim(options.rate_hz);
  sil::core::SimHost host(io, sim, bridge, {.clock = options.clock, .speed = options.speed});

  std::jthread rx_thread;
  if (!host.receives_on_sim_thread()) rx_thread = std::jthread([&bridge](std::stop_token stop) { bridge.run_rx(stop); });
  host.start();
  sil::app::ActivityLog activity;
  boost::asio::steady_timer activity_timer(io);
  log_activity(activity_timer, activity, bridge);
  print_ready(bridge, options);
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
  log_stopped(bridge.stats(), sim.clock().tick(), host.overruns());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  const auto parsed = sil::app::parse_args(args);
  if (const auto* error = std::get_if<sil::app::CliError>(&parsed)) {
    std::fprintf(stderr, "sil-sim: %s\nTry 'sil-sim --help'.\n", error->message.c_str());
    return 2;
  }
  const auto& options = std::get<sil::app::Options>(parsed);
  if (options.help) {
    std::fputs(sil::app::usage().c_str(), stdout);
    return 0;
  }
  try {
    return run(options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sil-sim: %s\n", e.what());
    return 1;
  }
}
