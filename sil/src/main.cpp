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
#include "sil/core/realtime_loop.hpp"
#include "sil/core/simulation.hpp"
#include "sil/ipc/catalogue.hpp"
#include "sil/services/build_info.hpp"

namespace {

void print_ready(const sil::bridge::UdpBridge& bridge, const sil::app::Options& options) {
  const auto& build = sil::services::build_info();
  // One line, flushed: the harness reads it to learn the port.
  std::printf(
      "{\"event\": \"ready\", \"port\": %u, \"bind\": \"%s\", \"rate_hz\": %u, \"pid\": %d, "
      "\"version\": \"%.*s\", \"git_revision\": \"%.*s\", \"catalogue_hash\": %u}\n",
      static_cast<unsigned>(bridge.port()), options.bind.c_str(), options.rate_hz, static_cast<int>(::getpid()),
      static_cast<int>(build.version.size()), build.version.data(), static_cast<int>(build.git_revision.size()),
      build.git_revision.data(), static_cast<unsigned>(sil::ipc::kCatalogueHash));
  std::fflush(stdout);
}

void log_stats(const sil::bridge::BridgeStats& s, std::uint64_t ticks, std::uint64_t overruns) {
  using sil::bridge::Verdict;
  auto rx = [&](Verdict v) { return static_cast<unsigned long long>(s.rx[static_cast<std::size_t>(v)]); };
  std::fprintf(stderr,
               "sil-sim: stopped after %llu ticks (%llu overruns); rx accepted %llu, dropped: too_short %llu, "
               "unknown_id %llu, wrong_size %llu, truncated %llu, inbox_full %llu; tx sent %llu, no_peer %llu, "
               "errors %llu; peer changes %llu\n",
               static_cast<unsigned long long>(ticks), static_cast<unsigned long long>(overruns),
               rx(Verdict::accepted), rx(Verdict::too_short), rx(Verdict::unknown_id), rx(Verdict::wrong_size),
               rx(Verdict::truncated), static_cast<unsigned long long>(s.rx_inbox_full),
               static_cast<unsigned long long>(s.tx_sent), static_cast<unsigned long long>(s.tx_no_peer),
               static_cast<unsigned long long>(s.tx_errors), static_cast<unsigned long long>(s.peer_changes));
}

int run(const sil::app::Options& options) {
  boost::asio::io_context io(1);
  // Registered before anything can fail or block, so a SIGTERM sent any
  // time after the ready line stops the loop cleanly.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&io](const boost::system::error_code& ec, int) {
    if (!ec) io.stop();
  });

  sil::bridge::UdpBridge bridge(io, {.bind_address = options.bind, .port = options.port});
  sil::core::DefaultSimulation sim(options.rate_hz);
  auto bus = sim.make_bus(bridge);
  sil::core::RealtimeLoop loop(io, sim, bus, bridge);

  std::jthread rx_thread([&bridge](std::stop_token stop) { bridge.run_rx(stop); });
  loop.start();
  print_ready(bridge, options);
  std::fprintf(stderr, "sil-sim: listening on %s:%u at %u Hz\n", options.bind.c_str(),
               static_cast<unsigned>(bridge.port()), options.rate_hz);

  io.run();

  rx_thread.request_stop();
  rx_thread.join();
  log_stats(bridge.stats(), sim.clock().tick(), loop.overruns());
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
