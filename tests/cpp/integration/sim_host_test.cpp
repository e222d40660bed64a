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
#include "sil/ipc/datagram.hpp"
#include "test_system.hpp"
#include "sim_harness.hpp"
#include "sil/ipc/catalogue.hpp"
#include "sil/ipc/messages.hpp"
#include "sil_control.pb.h"
#include "wait.hpp"

namespace sil::core {
namespace {

using Bytes = std::vector<std::byte>;

// Sees every RevisionResponse on the simulation thread and notes the tick.
// The test sets `sim` once the simulation thread runs: an atomic, since the
// only other order between the two is the kernel's (the datagram that
// brings the request), which ThreadSanitizer cannot see.
struct AnswerWitness {
  std::atomic<const sil::test::Sim*> sim{nullptr};
  std::atomic<std::uint64_t> answers{0};
  std::uint64_t tick_at_answer = 0;

  void on(const ipc::RevisionResponse&) {
    tick_at_answer = sim.load(std::memory_order_acquire)->clock().tick();
    answers.store(answers.load() + 1);
  }
};

using test::advance_ticks;
using test::Harness;
using test::Running;

TEST(SimHostRealtime, AnswersAnInboundRequestWithoutWaitingForTheNextTick) {
  AnswerWitness witness;
  // 1 Hz at a thousandth of real time: after the first tick (at start) the
  // next one is 1000 s away, so an answer that comes at all came between ticks.
  Running<AnswerWitness> run(1, {.clock = ClockMode::realtime, .speed = 1e-3}, witness);
  witness.sim.store(&run.sim, std::memory_order_release);
  ASSERT_TRUE(test::wait_until([&] { return run.bridge.stats().tx_no_peer >= 1; })) << "tick 0 never ran";

  Harness harness(run.bridge.port());
  harness.inject(ipc::RevisionRequest{.request_id = 31337});
  ASSERT_TRUE(test::wait_until([&] { return witness.answers.load() == 1; }));
  run.stop();

  EXPECT_EQ(witness.tick_at_answer, 1U);
  EXPECT_EQ(run.sim.clock().tick(), 1U);
}

// Batched egress flushes after inbound delivery too: the answer to a
// request leaves at once, not with the next tick (1000 s away here).
TEST(SimHostRealtime, BatchedEgressSendsTheAnswerWithoutWaitingForTheNextTick) {
  Running<> run({.egress = bridge::Egress::batched}, 1, {.clock = ClockMode::realtime, .speed = 1e-3});
  ASSERT_TRUE(test::wait_until([&] { return run.bridge.stats().tx_no_peer >= 1; })) << "tick 0 never ran";

  test::LoopbackClient client;
  client.send_to(run.bridge.port(), bridge::encode_datagram(ipc::RevisionRequest{.request_id = 4242}));
  const auto answer = client.receive();
  ASSERT_TRUE(answer) << "no answer before the next tick";
  const auto decoded = ipc::decode_datagram<sil::test::Catalogue>(*answer);
  ASSERT_TRUE(decoded.accepted());
  ASSERT_TRUE(std::holds_alternative<ipc::RevisionResponse>(decoded.message));
  EXPECT_EQ(std::get<ipc::RevisionResponse>(decoded.message).request_id, 4242U);
  run.stop();
  EXPECT_EQ(run.sim.clock().tick(), 1U);
}

TEST(SimHostStep, DoesNotTickUntilAskedThenRunsExactlyTheTicksAskedFor) {
  Running<> run(100, {.clock = ClockMode::step});
  Harness harness(run.bridge.port());

  control::Request hello;
  hello.mutable_hello()->set_catalogue_hash(sil::test::kHash);
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
    const auto decoded = ipc::decode_datagram<sil::test::Catalogue>(datagram);
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

// A step-clock session with injected inputs; `received` collects every
// datagram the harness gets. Returns the trace digest and count.
// bundle_bytes: asked for in a Hello first (0: no Hello); `bundles` gets
// how many bundles arrived.
std::pair<std::uint64_t, std::uint64_t> scripted_session(std::vector<Bytes>& received,
                                                         bridge::Egress egress = bridge::Egress::per_message,
                                                         std::uint32_t bundle_bytes = 0,
                                                         std::size_t* bundles = nullptr) {
  Running<> run({.egress = egress}, 100, {.clock = ClockMode::step});
  Harness harness(run.bridge.port());
  if (bundle_bytes != 0) {
    control::Request hello;
    hello.mutable_hello()->set_catalogue_hash(sil::test::kHash);
    hello.mutable_hello()->set_bundle_bytes(bundle_bytes);
    const auto ready = harness.call(hello);
    EXPECT_EQ(ready.ready().bundle_bytes(), bundle_bytes);
    EXPECT_EQ(harness.bundles(), 0U) << "Ready itself is never bundled";
  }
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
  if (bundles != nullptr) *bundles = harness.bundles();
  return std::pair{reply.stats().trace_digest(), reply.stats().trace_count()};
}

// The same inputs, in the same order, give the same run: every datagram the
// harness receives and the digest of everything published on the bus.
TEST(SimHostStep, TwoRunsWithTheSameInputsPublishTheSameSequence) {
  std::vector<Bytes> first, second;
  const auto [digest1, count1] = scripted_session(first);
  const auto [digest2, count2] = scripted_session(second);
  EXPECT_EQ(digest1, digest2);
  EXPECT_EQ(count1, count2);
  // At least: heartbeats at ticks 0, 10, ..., 50, three requests and three answers.
  EXPECT_GE(count1, 12U);
  EXPECT_EQ(first, second);
}

// Batching changes how many syscalls carry the datagrams, never which
// datagrams the harness sees or in what order (replies included).
TEST(SimHostStep, BatchedEgressDeliversExactlyWhatPerMessageEgressDelivers) {
  std::vector<Bytes> per_message, batched;
  const auto expected = scripted_session(per_message, bridge::Egress::per_message);
  const auto got = scripted_session(batched, bridge::Egress::batched);
  EXPECT_EQ(got, expected);
  EXPECT_EQ(batched, per_message);
  EXPECT_GE(batched.size(), 12U);
}

// Bundles change how many datagrams carry the messages, never which
// messages the harness sees or in what order, replies included.
TEST(SimHostStep, BundlesDeliverExactlyWhatPerMessageEgressDelivers) {
  std::vector<Bytes> per_message, bundled;
  const auto expected = scripted_session(per_message, bridge::Egress::per_message);
  std::size_t bundles = 0;
  const auto got = scripted_session(bundled, bridge::Egress::batched, 1472, &bundles);
  EXPECT_EQ(got, expected);
  EXPECT_EQ(bundled, per_message);
  // One bundle per tick that published something or ended with a reply.
  EXPECT_GT(bundles, 0U);
  EXPECT_LT(bundles, per_message.size() + 4);
}

TEST(SimHostControl, HelloGrantsBundlesOnlyWhereTheyCanBeMade) {
  const auto granted = [](bridge::Egress egress, std::uint32_t asked) {
    Running<> run({.egress = egress}, 100, {.clock = ClockMode::step});
    Harness harness(run.bridge.port());
    control::Request hello;
    hello.mutable_hello()->set_catalogue_hash(sil::test::kHash);
    hello.mutable_hello()->set_bundle_bytes(asked);
    const auto reply = harness.call(hello);
    EXPECT_TRUE(reply.has_ready());
    harness.call(advance_ticks(20));
    EXPECT_EQ(harness.bundles() != 0, reply.ready().bundle_bytes() != 0);
    return reply.ready().bundle_bytes();
  };
  EXPECT_EQ(granted(bridge::Egress::batched, 100'000), bridge::kMaxBundleBytes);
  EXPECT_EQ(granted(bridge::Egress::batched, 1472), 1472U);
  EXPECT_EQ(granted(bridge::Egress::batched, 0), 0U);
  EXPECT_EQ(granted(bridge::Egress::batched, bridge::min_bundle_bytes(sil::test::kMaxDatagramSize) - 1), 0U) << "too small for a message";
  EXPECT_EQ(granted(bridge::Egress::per_message, 1472), 0U) << "per-message egress copies nothing";
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
