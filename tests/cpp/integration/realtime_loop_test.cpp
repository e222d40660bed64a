// RealtimeLoop with the real simulation, a real UdpBridge and a harness
// socket. Nothing here depends on how fast the machine is: the loop's tick
// period is stretched so far that "before the next tick" cannot be an
// accident of timing.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <stop_token>
#include <thread>
#include <variant>

#include <boost/asio/io_context.hpp>

#include "loopback_client.hpp"
#include "sil/bridge/datagram.hpp"
#include "sil/bridge/udp_bridge.hpp"
#include "sil/core/realtime_loop.hpp"
#include "sil/core/simulation.hpp"
#include "sil/ipc/catalogue.hpp"
#include "sil/ipc/messages.hpp"
#include "wait.hpp"

namespace sil::core {
namespace {

// The 1 Hz DefaultSimulation, seen by the loop through a clock whose period
// is one hour: the loop's first tick runs at start() and the second one
// could only come an hour later, so an answer that arrives at all arrives
// between ticks. The services themselves still run at 1 Hz.
class OneTickPerHour {
 public:
  struct HourClock {
    std::uint64_t ticks;
    std::uint64_t period_ns() const noexcept { return 3'600ULL * 1'000'000'000ULL; }
    std::uint64_t now_ns() const noexcept { return ticks * period_ns(); }
  };

  explicit OneTickPerHour(DefaultSimulation& sim) noexcept : sim_(sim) {}
  HourClock clock() const noexcept { return {steps()}; }

  template <class Bus>
  void step(Bus& bus) {
    in_step_ = true;
    sim_.step(bus);
    in_step_ = false;
    steps_.store(steps_.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }

  bool in_step() const noexcept { return in_step_; }
  std::uint64_t steps() const noexcept { return steps_.load(std::memory_order_acquire); }

 private:
  DefaultSimulation& sim_;
  bool in_step_ = false;
  std::atomic<std::uint64_t> steps_{0};
};

// Sees every answer on the simulation thread and notes when it happened.
struct AnswerWitness {
  const DefaultSimulation* sim = nullptr;
  const OneTickPerHour* loop_view = nullptr;
  std::uint64_t answers = 0;
  std::uint64_t tick_at_answer = 0;
  bool answered_inside_a_tick = false;

  void on(const ipc::RevisionResponse&) {
    ++answers;
    tick_at_answer = sim->clock().tick();
    answered_inside_a_tick = answered_inside_a_tick || loop_view->in_step();
  }
};

TEST(RealtimeLoop, AnswersAnInboundRequestWithoutWaitingForTheNextTick) {
  boost::asio::io_context io;
  bridge::UdpBridge bridge(io, {});
  DefaultSimulation sim(1);
  OneTickPerHour loop_view(sim);
  AnswerWitness witness{&sim, &loop_view};
  auto bus = sim.make_bus(bridge, witness);
  RealtimeLoop loop(io, loop_view, bus, bridge);
  const test::LoopbackClient client;

  std::jthread rx([&bridge](std::stop_token stop) { bridge.run_rx(stop); });
  loop.start();
  std::jthread sim_thread([&io] { io.run(); });

  // The first tick runs at once; after it the next is an hour away.
  ASSERT_TRUE(test::wait_until([&] { return loop_view.steps() == 1; }));
  client.send_to(bridge.port(), bridge::encode_datagram(ipc::RevisionRequest{.request_id = 31337}));
  const auto reply = client.receive();

  io.stop();
  sim_thread.join();  // from here on the simulation thread's state is ours to read

  ASSERT_TRUE(reply) << "no answer while the loop waited for its next tick";
  const bridge::DecodeResult result = bridge::decode_datagram(*reply);
  ASSERT_TRUE(result.accepted());
  ASSERT_TRUE(std::holds_alternative<ipc::RevisionResponse>(result.message));
  const auto& response = std::get<ipc::RevisionResponse>(result.message);
  EXPECT_EQ(response.request_id, 31337U);
  EXPECT_EQ(response.tick_rate_hz, 1U);
  EXPECT_EQ(witness.answers, 1U);
  EXPECT_EQ(witness.tick_at_answer, 1U);
  EXPECT_FALSE(witness.answered_inside_a_tick);
  EXPECT_EQ(loop_view.steps(), 1U);
  EXPECT_EQ(sim.clock().tick(), 1U);
}

TEST(RealtimeLoop, RunsTheFirstTickAtStartAndEndsWhenTheIoContextIsStopped) {
  boost::asio::io_context io;
  bridge::UdpBridge bridge(io, {});
  DefaultSimulation sim(1);
  auto bus = sim.make_bus(bridge);
  RealtimeLoop loop(io, sim, bus, bridge);

  loop.start();
  std::atomic<bool> returned{false};
  std::jthread sim_thread([&] {
    io.run();
    returned = true;
  });

  // Tick 0 publishes a heartbeat, which the bridge counts as unsent: no peer yet.
  ASSERT_TRUE(test::wait_until([&] { return bridge.stats().tx_no_peer >= 1; }));
  EXPECT_FALSE(returned.load()) << "run() must keep going until stopped";
  io.stop();
  sim_thread.join();  // a loop that ignores stop() hangs here; the test timeout reports it
  EXPECT_TRUE(returned.load());
  EXPECT_GE(sim.clock().tick(), 1U);
}

}  // namespace
}  // namespace sil::core
