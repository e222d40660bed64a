// sil-sim: the registered services on a realtime clock, bridged to UDP.
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

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
      "\"speed\": %g, \"egress\": \"%s\", \"pid\": %d, \"version\": \"%.*s\", \"git_revision\": \"%.*s\", \"catalogue_hash\": %u}\n",
      static_cast<unsigned>(bridge.port()), options.bind.c_str(), options.rate_hz,
      std::string(sil::core::to_string(options.clock)).c_str(), options.speed, std::string(sil::bridge::to_string(options.egress)).c_str(), static_cast<int>(::getpid()),
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
  std::fprintf(stderr,
               "{\"event\": \"stopped\", \"ticks\": %llu, \"overruns\": %llu, \"rx\": {%s}, "
               "\"rx_inbox_full\": %llu, \"rx_errors\": %llu, \"tx_sent\": %llu, \"tx_no_peer\": %llu, "
               "\"tx_errors\": %llu, \"peer_changes\": %llu}\n",
               n(ticks), n(overruns), rx.c_str(), n(s.rx_inbox_full), n(s.rx_errors), n(s.tx_sent), n(s.tx_no_peer),
               n(s.tx_errors), n(s.peer_changes));
}

int run(const sil::app::Options& options) {
  boost::asio::io_context io(1);
  // Registered before anything can fail or block, so a SIGTERM sent any
  // time after the ready line stops the loop cleanly.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&io](const boost::system::error_code& ec, int) {
    if (!ec) io.stop();
  });

  sil::bridge::UdpBridge bridge(io, {.bind_address = options.bind, .port = options.port, .egress = options.egress});
  sil::core::DefaultSimulation sim(options.rate_hz);
  sil::core::SimHost host(io, sim, bridge, {.clock = options.clock, .speed = options.speed});

  std::jthread rx_thread;
  if (!host.receives_on_sim_thread()) rx_thread = std::jthread([&bridge](std::stop_token stop) { bridge.run_rx(stop); });
  host.start();
  print_ready(bridge, options);
  std::fprintf(stderr, "sil-sim: listening on %s:%u at %u Hz, %s clock\n", options.bind.c_str(),
               static_cast<unsigned>(bridge.port()), options.rate_hz,
               std::string(sil::core::to_string(options.clock)).c_str());

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
