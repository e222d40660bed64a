// Counters: what a service declares with SIL_COUNTERS, how the simulation
// lists them (catalogue, per instance) and reads them, and where they are
// reported (GetStats, the stopped line).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sil/app/stopped_line.hpp"
#include "sil/core/control.hpp"
#include "sil/core/simulation.hpp"
#include "sil/core/system.hpp"
#include "sil/ipc/declare.hpp"
#include "sil/services/counters.hpp"
#include "sil_control.pb.h"
#include "test_system.hpp"
#include "thermal/messages.hpp"

namespace {

using Values = std::vector<std::pair<std::string_view, std::uint64_t>>;

SIL_MESSAGE(Sample, 3000, (sil::i32, value));

SIL_COUNTERS(LimiterCounters,
             (negative, "samples below zero, clamped to 0"),
             (saturated, "samples above 100, clamped to 100"));

// Clamps samples to 0..100 and counts what it clamped.
class Limiter {
 public:
  using Counters = LimiterCounters;
  void on(const Sample& sample) noexcept {
    const std::int32_t value = sample.value;
    if (value < 0) ++counters_.negative;
    if (value > 100) ++counters_.saturated;
  }
  const Counters& counters() const noexcept { return counters_; }

 private:
  Counters counters_;
};

// A service without counters, between two with: it lists none and shifts nothing.
class Quiet {
 public:
  void on(const Sample& /*sample*/) noexcept {}
};

struct LimiterSystem : sil::SystemDefaults {
  using messages = sil::Messages<Sample>;
  using services = sil::Services<sil::Instance<"left", Limiter>, sil::Instance<"quiet", Quiet>,
                                 sil::Instance<"right", Limiter>>;
};
using LimiterSim = sil::core::Simulation<LimiterSystem>;

static_assert(sil::HasCounters<Limiter> && !sil::HasCounters<Quiet>);
static_assert(sizeof(LimiterCounters) == 2 * sizeof(std::uint64_t), "plain uint64 members, nothing else");
static_assert(std::is_trivially_copyable_v<LimiterCounters>);

TEST(Counters, TheCatalogueListsEachInstancesCountersQualifiedByItsNameWithTheirDescriptions) {
  const auto info = LimiterSim::catalogue_info();
  ASSERT_EQ(info.counters.size(), 4U);
  EXPECT_EQ(info.counters[0].name, "left.negative");
  EXPECT_EQ(info.counters[0].description, "samples below zero, clamped to 0");
  EXPECT_EQ(info.counters[1].name, "left.saturated");
  EXPECT_EQ(info.counters[2].name, "right.negative");
  EXPECT_EQ(info.counters[3].name, "right.saturated");
  EXPECT_EQ(info.counters[3].description, "samples above 100, clamped to 100");
}

TEST(Counters, TheyAreNotInTheHashNothingAHarnessSendsDependsOnThem) {
  EXPECT_EQ(LimiterSim::kHash, sil::SystemTraits<LimiterSystem>::catalogue::hash);
}

TEST(Counters, StartAtZeroAndCountPerInstance) {
  LimiterSim sim(100);
  EXPECT_EQ(sim.counters(), (Values{{"left.negative", 0}, {"left.saturated", 0}, {"right.negative", 0},
                                    {"right.saturated", 0}}));
  auto bus = sim.make_bus();
  bus.publish(Sample{.value = -5});
  bus.publish(Sample{.value = 101});
  bus.publish(Sample{.value = 200});
  bus.publish(Sample{.value = 50});
  sim.step(bus);
  // Both instances hear every Sample, so both count; each keeps its own.
  EXPECT_EQ(sim.counters(), (Values{{"left.negative", 1}, {"left.saturated", 2}, {"right.negative", 1},
                                    {"right.saturated", 2}}));
  EXPECT_EQ(sim.service<"left">().counters().saturated, 2U);
}

TEST(Counters, TheThermostatCountsEachNonFiniteSetPointItIgnores) {
  sil::test::Sim sim(100);
  const auto rejected = [&] {
    for (const auto& [name, value] : sim.counters())
      if (name == "thermostat.rejected_set_points") return value;
    ADD_FAILURE() << "no thermostat.rejected_set_points";
    return std::uint64_t{0};
  };
  auto bus = sim.make_bus();
  EXPECT_EQ(rejected(), 0U);
  bus.publish(thermal::SetPoint{.setpoint_c = std::numeric_limits<double>::quiet_NaN()});
  EXPECT_EQ(rejected(), 1U);
  bus.publish(thermal::SetPoint{.setpoint_c = 40.0});
  bus.publish(thermal::SetPoint{.setpoint_c = -std::numeric_limits<double>::infinity()});
  EXPECT_EQ(rejected(), 2U);
  EXPECT_EQ(sim.service<thermal::Thermostat>().setpoint_c(), 40.0);
}

TEST(Counters, GetStatsCarriesEveryCounterByName) {
  sil::core::StatsSnapshot snapshot;
  snapshot.counters = {{"left.negative", 3}, {"right.saturated", 0}};
  const std::string bytes = sil::core::encode_stats(7, sil::core::HostStatus{}, snapshot);
  sil::control::Reply reply;
  ASSERT_TRUE(reply.ParseFromString(bytes));
  ASSERT_TRUE(reply.has_stats());
  const auto& counters = reply.stats().counters();
  ASSERT_EQ(counters.size(), 2U);
  EXPECT_EQ(counters.at("left.negative"), 3U);
  EXPECT_EQ(counters.at("right.saturated"), 0U) << "a zero counter is listed too";
}

TEST(Counters, TheStoppedLineHasThemAsAnObjectEscapingNames) {
  const Values values{{"left.negative", 3}, {"odd\"name\\", 4}};
  const std::string line = sil::app::stopped_line({}, 10, 0, values);
  EXPECT_NE(line.find(R"("counters": {"left.negative": 3, "odd\"name\\": 4})"), std::string::npos) << line;
  EXPECT_NE(sil::app::stopped_line({}, 10, 0, {}).find(R"("counters": {})"), std::string::npos);
}

}  // namespace
