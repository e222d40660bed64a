#pragma once
// A SimHost with the real simulation and a real UdpBridge on 127.0.0.1, its
// simulation thread and (unless the clock is step) its rx thread, torn down
// in the right order.
#include <cstdint>
#include <stop_token>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "test_system.hpp"
#include "sil/core/sim_host.hpp"
#include "test_system.hpp"

namespace sil::test {

template <class... Extra>
struct Running {
  Running(std::uint32_t rate_hz, core::HostConfig config, Extra&... extra)
      : Running(bridge::BridgeConfig{}, rate_hz, config, extra...) {}
  Running(const bridge::BridgeConfig& bridge_config, std::uint32_t rate_hz, core::HostConfig config, Extra&... extra)
      : bridge(bridge_config), sim(rate_hz), host(io, sim, bridge, config, extra...) {
    if (!host.receives_on_sim_thread()) rx = std::jthread([this](std::stop_token stop) { bridge.run_rx(stop); });
    host.start();
    sim_thread = std::jthread([this] { io.run(); });
  }
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;
  ~Running() { stop(); }
  void stop() {
    io.stop();
    if (sim_thread.joinable()) sim_thread.join();  // from here the sim's state is ours to read
    if (rx.joinable()) {
      rx.request_stop();
      rx.join();
    }
  }

  boost::asio::io_context io;
  sil::test::Bridge bridge;
  sil::test::Sim sim;
  core::SimHost<sil::test::Sim, sil::test::Bridge, Extra...> host;
  std::jthread rx;
  std::jthread sim_thread;
};

}  // namespace sil::test
