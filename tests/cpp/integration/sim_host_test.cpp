// SimHost with the real simulation, a real UdpBridge and a harness socket
// speaking the control plane. Nothing depends on machine speed: the realtime
// tests stretch the tick period so far that "before the next tick" cannot be
// an accident of timing, and the step clock does not move on its own.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <stop_token>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "loopback_client.hpp"
#include "running_host.hpp"
#include "sil/bridge/datagram.hpp"
#include "sil/bridge/udp_bridge.hpp"
#include "sil/core/sim_host.hpp"
#include "sil/core/simulation.hpp"
#include "sil/ipc/catalogue.hpp"
#include "sil/ipc/messages.hpp"
#include "sil_control.pb.h"
#include "wait.hpp"

namespace sil::core {
namespace {

using test::Running;

using Bytes = std::vector<std::byte>;

// Sees every RevisionResponse on the simulation thread and notes the tick.
struct AnswerWitness {
  const DefaultSimulation* sim = nullptr;
  std::atomic<std::uint64_t> answers{0};
  std::uint64_t tick_at_answer = 0;

  void on(const ipc::RevisionResponse&) {
    tick_at_answer = sim->clock().tick();
    answers.store(answers.load() + 1);
  }
};

// The harness side of the control plane: sends a request, collects every
// bus datagram that arrives before the reply.
class Harness {
 public:
  explicit Harness(std::uint16_t port) : port_(port) {}

  control::Reply call(control::Request request, std::vector<Bytes>* before = nullptr) {
    request.set_sequence(++sequence_);
    send_raw(request.SerializeAsString());
    return await_reply(before);
  }

  void send_raw(const std::string& body) {
    Bytes datagram{std::byte{0xF0}, std::byte{0xFF}};
    for (const char c : body) datagram.push_back(static_cast<std::byte>(c));
    client_.send_to(port_, datagram);
  }

  template <class T>
  void inject(const T& message) {
    client_.send_to(port_, bridge::encode_datagram(message));
  }

  control::Reply await_reply(std::vector<Bytes>* before = nullptr) {
    for (int i = 0; i < 100'000; ++i) {
      auto datagram = client_.receive();
      if (!datagram) break;
      if (datagram->size() >= 2 && (*datagram)[0] == std::byte{0xF1} && (*datagram)[1] == std::byte{0xFF}) {
        control::Reply reply;
        EXPECT_TRUE(reply.ParseFromArray(datagram->data() + 2, static_cast<int>(datagram->size() - 2)));
        return reply;
      }
      if (before != nullptr) before->push_back(std::move(*datagram));
    }
    ADD_FAILURE() << "no control reply";
    return {};
  }

 private:
  std::uint16_t port_;
  std::uint32_t sequence_ = 0;
  test::LoopbackClient client_;
};

control::Request advance_ticks(std::uint64_t ticks) {
  control::Request request;
  request.mutable_advance()->set_ticks(ticks);
  return request;
}

TEST(SimHostRealtime, AnswersAnInboundRequestWithoutWaitingForTheNextTick) {
  AnswerWitness witness;
  // 1 Hz at a thousandth of real time: after the first tick (at start) the
  // next one is 1000 s away, so an answer that comes at all came between ticks.
  Running<AnswerWitness> run(1, {.clock = ClockMode::realtime, .speed = 1e-3}, witness);
  witness.sim = &run.sim;
  ASSERT_TRUE(test::wait_until([&] { return run.bridge.stats().tx_no_peer >= 1; })) << "tick 0 never ran";

  Harness harness(run.bridge.port());
  harness.inject(ipc::RevisionRequest{.request_id = 31337});
  ASSERT_TRUE(test::wait_until([&] { return witness.answers.load() == 1; }));
  run.stop();

  EXPECT_EQ(witness.tick_at_answer, 1U);
  EXPECT_EQ(run.sim.clock().tick(), 1U);
}

TEST(SimHostStep, DoesNotTickUntilAskedThenRunsExactlyTheTicksAskedFor) {
  Running<> run(100, {.clock = ClockMode::step});
  Harness harness(run.bridge.port());

  control::Request hello;
  hello.mutable_hello()->set_catalogue_hash(ipc::kCatalogueHash);
  const auto ready = harness.call(hello);
  ASSERT_TRUE(ready.has_ready());
  EXPECT_EQ(ready.tick(), 0U) << "the step clock moved on its own";
  EXPECT_TRUE(ready.ready().catalogue_matches());
  EXPECT_EQ(ready.ready().clock(), "step");

  std::vector<Bytes> published;
  const auto reply = harness.call(advance_ticks(25), &published);
  ASSERT_TRUE(reply.has_advanced()) << reply.DebugString();
  EXPECT_EQ(reply.advanced().ticks_run(), 25U);
  EXPECT_EQ(reply.tick(), 25U);
  EXPECT_EQ(reply.sim_time_ns(), 250'000'000U);
  // Heartbeats at ticks 0, 10 and 20 all arrived before the reply.
  std::size_t heartbeats = 0;
  for (const auto& datagram : published) {
    const auto decoded = bridge::decode_datagram(datagram);
    ASSERT_TRUE(decoded.accepted());
    heartbeats += std::holds_alternative<ipc::Heartbeat>(decoded.message) ? 1 : 0;
  }
  EXPECT_EQ(heartbeats, 3U);
}

TEST(SimHostStep, AdvanceUntilStopsAtTheEndOfTheTickThatPublishedTheMatch) {
  Running<> run(100, {.clock = ClockMode::step});
  Harness harness(run.bridge.port());
  control::Request request;
  auto* until = request.mutable_advance()->mutable_until();
  until->set_msg_id(static_cast<std::uint16_t>(ipc::MsgId::Heartbeat));
  until->set_field("sequence");
  until->mutable_equals()->set_int_value(7);
  until->set_limit_ns(60'000'000'000ULL);

  const auto reply = harness.call(request);
  ASSERT_TRUE(reply.has_advanced()) << reply.DebugString();
  EXPECT_TRUE(reply.advanced().matched());
  EXPECT_EQ(reply.advanced().matched_at_ns(), 700'000'000U);
  EXPECT_EQ(reply.advanced().ticks_run(), 71U) << "ticks 0..70: the match is in tick 70";
  ipc::Heartbeat heartbeat{};
  ASSERT_EQ(reply.advanced().matched_payload().size(), sizeof heartbeat);
  std::memcpy(&heartbeat, reply.advanced().matched_payload().data(), sizeof heartbeat);
  EXPECT_EQ(heartbeat.sequence, 7U);
}

TEST(SimHostStep, AdvanceUntilReportsNoMatchWhenTheLimitPasses) {
  Running<> run(100, {.clock = ClockMode::step});
  Harness harness(run.bridge.port());
  control::Request request;
  auto* until = request.mutable_advance()->mutable_until();
  until->set_msg_id(static_cast<std::uint16_t>(ipc::MsgId::RevisionResponse));
  until->set_limit_ns(500'000'000ULL);

  const auto reply = harness.call(request);
  ASSERT_TRUE(reply.has_advanced());
  EXPECT_FALSE(reply.advanced().matched());
  EXPECT_EQ(reply.advanced().ticks_run(), 50U);
}

// The same inputs, in the same order, give the same run: every datagram the
// harness receives and the digest of everything published on the bus.
TEST(SimHostStep, TwoRunsWithTheSameInputsPublishTheSameSequence) {
  auto run_once = [](std::vector<Bytes>& received) {
    Running<> run(100, {.clock = ClockMode::step});
    Harness harness(run.bridge.port());
    harness.call(advance_ticks(5), &received);
    harness.inject(ipc::RevisionRequest{.request_id = 1});
    harness.call(advance_ticks(30), &received);
    harness.inject(ipc::RevisionRequest{.request_id = 2});
    harness.inject(ipc::RevisionRequest{.request_id = 3});
    harness.call(advance_ticks(17), &received);
    control::Request stats;
    stats.mutable_get_stats();
    const auto reply = harness.call(stats, &received);
    EXPECT_TRUE(reply.has_stats());
    return std::pair{reply.stats().trace_digest(), reply.stats().trace_count()};
  };
  std::vector<Bytes> first, second;
  const auto [digest1, count1] = run_once(first);
  const auto [digest2, count2] = run_once(second);
  EXPECT_EQ(digest1, digest2);
  EXPECT_EQ(count1, count2);
  // At least: heartbeats at ticks 0, 10, ..., 50, three requests and three answers.
  EXPECT_GE(count1, 12U);
  EXPECT_EQ(first, second);
}

TEST(SimHostControl, BadRequestsGetErrorRepliesAndTheSimKeepsAnswering) {
  Running<> run(100, {.clock = ClockMode::realtime});
  Harness harness(run.bridge.port());

  harness.send_raw("\xff\xff\xff");
  auto reply = harness.await_reply();
  ASSERT_TRUE(reply.has_error());
  EXPECT_EQ(reply.error().code(), control::Error::MALFORMED);

  reply = harness.call(advance_ticks(1));
  ASSERT_TRUE(reply.has_error());
  EXPECT_EQ(reply.error().code(), control::Error::WRONG_CLOCK);
  EXPECT_NE(reply.error().message().find("step clock"), std::string::npos) << reply.error().message();

  harness.send_raw(std::string(600, 'x'));
  reply = harness.await_reply();
  ASSERT_TRUE(reply.has_error());
  EXPECT_EQ(reply.error().code(), control::Error::TOO_LARGE);

  control::Request stats;
  stats.mutable_get_stats();
  reply = harness.call(stats);
  ASSERT_TRUE(reply.has_stats());
  EXPECT_EQ(reply.stats().control_errors(), 3U);
  EXPECT_EQ(reply.stats().control_requests(), 4U);
}

TEST(SimHostControl, PauseStopsTheRealtimeClockAndResumeRestartsIt) {
  Running<> run(1000, {.clock = ClockMode::realtime});
  Harness harness(run.bridge.port());
  control::Request pause;
  pause.mutable_pause();
  const auto paused = harness.call(pause);
  ASSERT_TRUE(paused.has_ack());
  control::Request stats;
  stats.mutable_get_stats();
  const auto first = harness.call(stats);
  const auto second = harness.call(stats);
  EXPECT_TRUE(first.stats().paused());
  EXPECT_EQ(first.stats().ticks(), second.stats().ticks()) << "ticks ran while paused";

  control::Request resume;
  resume.mutable_resume();
  ASSERT_TRUE(harness.call(resume).has_ack());
  ASSERT_TRUE(test::wait_until([&] { return harness.call(stats).stats().ticks() > second.stats().ticks(); }));
}

}  // namespace
}  // namespace sil::core
