// The simulation core with its registered services, stepped by hand: no
// wall clock, no sockets.
#include <gtest/gtest.h>

#include <array>
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "test_system.hpp"
#include "sil/ipc/catalogue.hpp"
#include "sil/ipc/messages.hpp"
#include "sil/ipc/build_info.hpp"
#include "sil/services/heartbeat_service.hpp"
#include "sil/services/revision_service.hpp"

// The build this test program was stamped with (sil_target_build_info).
const sil::ipc::BuildInfo& sil_generated_build_info() noexcept;

namespace sil::core {
namespace {

using services::HeartbeatService;
using services::RevisionService;

constexpr std::uint64_t kHeartbeatPeriodNs = 100'000'000;

struct Recorder {
  std::vector<ipc::Heartbeat> heartbeats;
  std::vector<ipc::RevisionResponse> responses;
  void on(const ipc::Heartbeat& msg) { heartbeats.push_back(msg); }
  void on(const ipc::RevisionResponse& msg) { responses.push_back(msg); }
};

static_assert(std::is_same_v<SystemTraits<sil::test::System>::instances,
                             Services<Instance<"revision", RevisionService>, Instance<"heartbeat", HeartbeatService>,
                                      Instance<"plant", thermal::HeaterPlant>, Instance<"thermostat", thermal::Thermostat>,
                                      Instance<"monitor", thermal::FaultMonitor>>>,
              "a system runs the framework services, then its own, in declaration order");
static_assert(sil::test::Sim::instance_names() ==
              std::array<std::string_view, 5>{"revision", "heartbeat", "plant", "thermostat", "monitor"});
static_assert(sil::test::Sim::kInstanceCount == 5);

TEST(Simulation, At100HzPublishesAHeartbeatEveryTenTicks) {
  sil::test::Sim sim(100);
  Recorder recorder;
  auto bus = sim.make_bus(recorder);

  for (int i = 0; i <= 100; ++i) sim.step(bus);  // ticks 0..100

  ASSERT_EQ(recorder.heartbeats.size(), 11U);
  for (std::uint32_t k = 0; k < recorder.heartbeats.size(); ++k) {
    const ipc::Heartbeat& hb = recorder.heartbeats[k];
    EXPECT_EQ(hb.sequence, k);
    EXPECT_EQ(hb.tick, 10U * k);
    EXPECT_EQ(hb.sim_time_ns, 10ULL * k * 10'000'000ULL);
  }
  EXPECT_EQ(sim.clock().tick(), 101U);
}

// For any rate of at least 10 Hz: heartbeat k is published at the first
// tick whose time is at or past k * 100 ms, so never early and never more
// than one tick late, with none skipped.
class HeartbeatAtRate : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(HeartbeatAtRate, PublishesAtTheFirstTickAtOrAfterEachDueTime) {
  const std::uint32_t rate = GetParam();
  sil::test::Sim sim(rate);
  Recorder recorder;
  auto bus = sim.make_bus(recorder);
  const std::uint64_t ticks = 2ULL * rate + 1;  // two simulated seconds, both ends included
  for (std::uint64_t i = 0; i < ticks; ++i) sim.step(bus);

  const auto time_of = [&](std::uint64_t tick) { return tick * 1'000'000'000ULL / rate; };
  ASSERT_EQ(recorder.heartbeats.size(), 21U);
  for (std::uint32_t k = 0; k < recorder.heartbeats.size(); ++k) {
    const ipc::Heartbeat& hb = recorder.heartbeats[k];
    const std::uint64_t due = k * kHeartbeatPeriodNs;
    EXPECT_EQ(hb.sequence, k);
    EXPECT_EQ(hb.sim_time_ns, time_of(hb.tick)) << "heartbeat " << k;
    EXPECT_GE(static_cast<std::uint64_t>(hb.sim_time_ns), due) << "heartbeat " << k << " early";
    if (hb.tick > 0) {
      EXPECT_LT(time_of(hb.tick - 1), due) << "heartbeat " << k << " late by more than a tick";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Rates, HeartbeatAtRate, ::testing::Values(10U, 30U, 33U, 100U, 333U, 1000U, 7919U));

TEST(Simulation, At30HzTheHeartbeatStaysWithinOneTickOfItsPeriod) {
  sil::test::Sim sim(30);
  Recorder recorder;
  auto bus = sim.make_bus(recorder);
  for (int i = 0; i < 300; ++i) sim.step(bus);

  ASSERT_EQ(recorder.heartbeats.size(), 100U);
  for (std::size_t k = 1; k < recorder.heartbeats.size(); ++k) {
    const std::uint64_t gap = recorder.heartbeats[k].tick - recorder.heartbeats[k - 1].tick;
    EXPECT_EQ(gap, 3U) << "3 ticks of 1/30 s are exactly 100 ms";
  }
}

TEST(Simulation, BelowTenHertzPublishesOneHeartbeatPerTick) {
  sil::test::Sim sim(3);
  Recorder recorder;
  auto bus = sim.make_bus(recorder);
  for (int i = 0; i < 6; ++i) sim.step(bus);

  ASSERT_EQ(recorder.heartbeats.size(), 6U);
  for (std::uint32_t k = 0; k < 6; ++k) {
    EXPECT_EQ(recorder.heartbeats[k].tick, k);
    EXPECT_EQ(recorder.heartbeats[k].sequence, k);
  }
}

// Test services: each tick publishes a heartbeat tagged with who sent it,
// so the recorder sees the order in which services ticked.
struct FirstService {
  explicit FirstService(const ipc::SimClock& clock) noexcept : clock_(clock) {}
  void tick(ipc::Publisher auto& bus) {
    bus.publish(ipc::Heartbeat{.sequence = 1, .tick = clock_.tick(), .sim_time_ns = clock_.now_ns()});
  }
  const ipc::SimClock& clock_;
};

struct ListenerWithoutTick {  // default-constructed: takes no clock
  std::vector<std::uint32_t> seen;
  void on(const ipc::Heartbeat& msg) { seen.push_back(msg.sequence); }
};

struct SecondService {
  explicit SecondService(const ipc::SimClock& clock) noexcept : clock_(clock) {}
  void tick(ipc::Publisher auto& bus) {
    bus.publish(ipc::Heartbeat{.sequence = 2, .tick = clock_.tick(), .sim_time_ns = clock_.now_ns()});
  }
  const ipc::SimClock& clock_;
};

// An extra subscriber: notes how many heartbeats the listener service had
// already seen when this one reached it.
struct AfterServices {
  const std::vector<std::uint32_t>* listener_seen;
  std::vector<std::uint32_t> sequences;
  std::vector<std::uint64_t> ticks;
  std::vector<std::size_t> listener_count;
  void on(const ipc::Heartbeat& msg) {
    sequences.push_back(msg.sequence);
    ticks.push_back(msg.tick);
    listener_count.push_back(listener_seen->size());
  }
};

// Systems of test services alone: no framework services.
struct OrderSystem : SystemDefaults {
  using services = Services<Instance<"first", FirstService>, Instance<"listener", ListenerWithoutTick>,
                            Instance<"second", SecondService>>;
  static constexpr bool framework_services = false;
};
struct TwoClockSystem : SystemDefaults {
  using services = Services<Instance<"first", FirstService>, Instance<"second", SecondService>>;
  static constexpr bool framework_services = false;
};

TEST(Simulation, TicksServicesInRegistrationOrderBeforeTimeAdvances) {
  Simulation<OrderSystem> sim(10);
  AfterServices after{&sim.service<ListenerWithoutTick>().seen, {}, {}, {}};
  auto bus = sim.make_bus(after);

  sim.step(bus);
  sim.step(bus);

  EXPECT_EQ(after.sequences, (std::vector<std::uint32_t>{1, 2, 1, 2}));
  EXPECT_EQ(after.ticks, (std::vector<std::uint64_t>{0, 0, 1, 1}));
  EXPECT_EQ(sim.clock().tick(), 2U);
}

TEST(Simulation, ExtraSubscribersSeeAMessageAfterEveryService) {
  Simulation<OrderSystem> sim(10);
  AfterServices after{&sim.service<ListenerWithoutTick>().seen, {}, {}, {}};
  auto bus = sim.make_bus(after);

  sim.step(bus);

  EXPECT_EQ(sim.service<ListenerWithoutTick>().seen, (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(after.listener_count, (std::vector<std::size_t>{1, 2})) << "the listener had it first";
}

TEST(Simulation, ServicesReadTheSimulationsOwnClock) {
  Simulation<TwoClockSystem> sim(4);
  EXPECT_EQ(&sim.service<FirstService>().clock_, &sim.clock());
  EXPECT_EQ(&sim.service<SecondService>().clock_, &sim.clock());
}

bool is_hex_sha1(std::string_view text) {
  if (text.size() != 40) return false;
  for (const char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

TEST(RevisionService, AnswersARequestWithTheBuildAndEchoesTheRequestId) {
  sil::test::Sim sim(250, sil_generated_build_info());
  Recorder recorder;
  auto bus = sim.make_bus(recorder);

  bus.publish(ipc::RevisionRequest{.request_id = 0xDEADBEEFU});

  ASSERT_EQ(recorder.responses.size(), 1U);
  const ipc::RevisionResponse& response = recorder.responses[0];
  const ipc::BuildInfo& build = sil_generated_build_info();
  EXPECT_EQ(response.request_id, 0xDEADBEEFU);
  EXPECT_EQ(response.catalogue_hash, sil::test::kHash);
  EXPECT_EQ(response.wire_version, ipc::kWireVersion);
  EXPECT_EQ(response.tick_rate_hz, 250U);
  EXPECT_EQ(response.version_major, build.version_major);
  EXPECT_EQ(response.version_minor, build.version_minor);
  EXPECT_EQ(response.version_patch, build.version_patch);
  EXPECT_EQ(response.build_time_unix, build.build_time_unix);
  EXPECT_FALSE(response.git_revision.view().empty());
  EXPECT_EQ(response.git_revision.view(), build.git_revision);
  EXPECT_TRUE(is_hex_sha1(response.git_revision.view()) || response.git_revision.view() == "unknown")
      << response.git_revision.view();
  EXPECT_EQ((response.build_flags & ipc::RevisionResponse::kDirtyTree) != 0, build.dirty_tree);
  EXPECT_EQ(response.build_flags & ~(ipc::RevisionResponse::kDirtyTree | ipc::RevisionResponse::kAssertions), 0)
      << "no undefined flag bits";
}

TEST(RevisionService, AnswersEveryRequestWithItsOwnId) {
  sil::test::Sim sim(100);
  Recorder recorder;
  auto bus = sim.make_bus(recorder);

  for (const std::uint32_t id : {7U, 0U, 0xFFFFFFFFU, 7U}) bus.publish(ipc::RevisionRequest{.request_id = id});

  ASSERT_EQ(recorder.responses.size(), 4U);
  EXPECT_EQ(recorder.responses[0].request_id, 7U);
  EXPECT_EQ(recorder.responses[1].request_id, 0U);
  EXPECT_EQ(recorder.responses[2].request_id, 0xFFFFFFFFU);
  EXPECT_EQ(recorder.responses[3].request_id, 7U);
  EXPECT_EQ(recorder.responses[0].git_revision, recorder.responses[1].git_revision);
}

TEST(RevisionService, AnswersOnlyRequestsAndPublishesNothingOnItsOwn) {
  sil::test::Sim sim(100);
  Recorder recorder;
  auto bus = sim.make_bus(recorder);
  bus.publish(ipc::Heartbeat{.sequence = 0, .tick = 0, .sim_time_ns = 0});
  for (int i = 0; i < 50; ++i) sim.step(bus);
  EXPECT_TRUE(recorder.responses.empty());
}

TEST(BuildInfo, VersionStringMatchesItsParts) {
  const ipc::BuildInfo& build = sil_generated_build_info();
  EXPECT_EQ(std::string(build.version), std::to_string(build.version_major) + "." +
                                            std::to_string(build.version_minor) + "." +
                                            std::to_string(build.version_patch));
  EXPECT_GT(build.build_time_unix, 0);
}

}  // namespace
}  // namespace sil::core
