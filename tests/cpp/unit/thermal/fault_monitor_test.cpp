// FaultMonitor on its own, fed one scripted reading per tick: reading k
// arrives at tick k, so its time is clock.ns_at(k).
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "test_system.hpp"
#include "sil/ipc/message_bus.hpp"
#include "thermal/messages.hpp"
#include "thermal/fault_monitor.hpp"
#include "thermal_recorder.hpp"

namespace sil::services {
namespace {

using thermal::FaultMonitor;
using thermal::HeaterPlant;
using thermal::Thermostat;

using test::ThermalRecorder;

class ScriptedMonitor {
 public:
  explicit ScriptedMonitor(std::uint32_t rate_hz) : sim_(rate_hz) {}

  // `count` ticks, each with one reading of temperature_c.
  void feed(double temperature_c, std::uint64_t count = 1) {
    for (std::uint64_t i = 0; i < count; ++i) {
      bus_.publish(thermal::PlantTemperature{.temperature_c = temperature_c, .heater_power_w = 0.0});
      sim_.step(bus_);
    }
  }

  std::vector<test::AtTick<thermal::OverTemperatureFault>> faults() const {
    return recorder_.all<thermal::OverTemperatureFault>();
  }
  const SimClock& clock() const noexcept { return sim_.clock(); }
  std::uint64_t next_tick() const noexcept { return sim_.clock().tick(); }
  FaultMonitor& monitor() noexcept { return sim_.service<FaultMonitor>(); }

 private:
  core::Simulation<test::MonitorOnlySystem> sim_;
  ThermalRecorder recorder_{sim_.clock()};
  decltype(std::declval<core::Simulation<test::MonitorOnlySystem>&>().make_bus(std::declval<ThermalRecorder&>())) bus_{
      sim_.make_bus(recorder_)};
};

constexpr double kAbove = FaultMonitor::kThresholdC + 1.0;  // 81 C
constexpr double kBelow = FaultMonitor::kThresholdC - 1.0;  // 79 C: below the threshold, above the clear level

// The first tick whose time is at least `since`'s time plus the persistence.
std::uint64_t first_tick_persisting_from(const SimClock& clock, std::uint64_t since) {
  std::uint64_t tick = since;
  while (clock.ns_at(tick) < clock.ns_at(since) + FaultMonitor::kPersistenceNs) ++tick;
  return tick;
}

TEST(FaultMonitor, ConstantsAreTheDocumentedOnes) {
  EXPECT_EQ(FaultMonitor::kThresholdC, 80.0);
  EXPECT_EQ(FaultMonitor::kClearBelowC, 75.0);
  EXPECT_EQ(FaultMonitor::kPersistenceNs, 2'000'000'000U);
}

class FaultMonitorAtRate : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(FaultMonitorAtRate, RaisesExactlyThePersistenceTimeAfterTheFirstReadingAboveTheThreshold) {
  const std::uint32_t rate = GetParam();
  ScriptedMonitor script(rate);
  script.feed(kBelow, 10);
  const std::uint64_t first_above = script.next_tick();
  script.feed(kAbove, 4ULL * rate);

  const std::uint64_t expected = first_tick_persisting_from(script.clock(), first_above);
  EXPECT_EQ(expected, first_above + 2ULL * rate) << "2 s is a whole number of ticks at any integer rate";
  const auto faults = script.faults();
  ASSERT_EQ(faults.size(), 1U) << "raised once, then silent while it stays raised";
  EXPECT_EQ(faults[0].tick, expected) << "neither a tick early nor a tick late";
  EXPECT_EQ(faults[0].msg.active, 1);
  EXPECT_EQ(faults[0].msg.temperature_c, kAbove);
  EXPECT_EQ(faults[0].msg.raised_at_ns, script.clock().ns_at(expected));
  EXPECT_EQ(faults[0].msg.raised_at_ns - script.clock().ns_at(first_above), FaultMonitor::kPersistenceNs);
  EXPECT_TRUE(script.monitor().active());
}

INSTANTIATE_TEST_SUITE_P(Rates, FaultMonitorAtRate, ::testing::Values(1U, 3U, 30U, 100U, 1000U));

TEST(FaultMonitor, DoesNotRaiseWhenAnExceedanceIsShorterThanThePersistence) {
  ScriptedMonitor script(100);
  // 200 readings above span 1.99 s: one period short.
  script.feed(kAbove, 200);
  script.feed(kBelow);
  script.feed(kAbove, 200);
  script.feed(FaultMonitor::kThresholdC);  // exactly at the threshold is not above it: the run ends
  script.feed(kAbove, 200);
  EXPECT_TRUE(script.faults().empty()) << "three runs of 1.99 s, none of them long enough";
  EXPECT_FALSE(script.monitor().active());

  // The fourth run: its 201st reading is 2.00 s after its first.
  script.feed(kBelow);
  const std::uint64_t first_above = script.next_tick();
  script.feed(kAbove, 201);
  const auto faults = script.faults();
  ASSERT_EQ(faults.size(), 1U);
  EXPECT_EQ(faults[0].tick, first_above + 200);
}

TEST(FaultMonitor, ATemperatureAtOrBelowTheThresholdNeverRaises) {
  ScriptedMonitor script(100);
  script.feed(FaultMonitor::kThresholdC, 1000);
  script.feed(-273.15, 10);
  EXPECT_TRUE(script.faults().empty());
}

TEST(FaultMonitor, ClearsAtTheFirstReadingBelowTheClearLevelWithOneEdgeEach) {
  ScriptedMonitor script(100);
  script.feed(90.0, 201);  // raised at tick 200
  ASSERT_EQ(script.faults().size(), 1U);
  const std::uint64_t raised_at_ns = script.faults()[0].msg.raised_at_ns;
  EXPECT_EQ(raised_at_ns, 2'000'000'000U);

  // Inside the hysteresis band, and back above: no clear, no second raise.
  for (const double c : {79.0, 76.0, FaultMonitor::kClearBelowC, 85.0}) script.feed(c, 50);
  EXPECT_EQ(script.faults().size(), 1U);
  EXPECT_TRUE(script.monitor().active());

  const std::uint64_t clear_tick = script.next_tick();
  script.feed(74.9);
  script.feed(60.0, 100);

  auto faults = script.faults();
  ASSERT_EQ(faults.size(), 2U);
  EXPECT_EQ(faults[1].tick, clear_tick);
  EXPECT_EQ(faults[1].msg.active, 0);
  EXPECT_EQ(faults[1].msg.temperature_c, 74.9);
  EXPECT_EQ(faults[1].msg.raised_at_ns, raised_at_ns) << "a clear names the raise it ends";
  EXPECT_FALSE(script.monitor().active());

  // A new fault needs a whole new persistence time.
  const std::uint64_t rerun = script.next_tick();
  script.feed(kAbove, 300);
  faults = script.faults();
  ASSERT_EQ(faults.size(), 3U);
  EXPECT_EQ(faults[2].tick, rerun + 200);
  EXPECT_EQ(faults[2].msg.active, 1);
  EXPECT_EQ(faults[2].msg.raised_at_ns, script.clock().ns_at(rerun + 200));
}

TEST(FaultMonitor, ANonFiniteReadingIsIgnoredAndDoesNotEndARun) {
  ScriptedMonitor script(100);
  script.feed(kAbove, 100);  // ticks 0..99
  script.feed(std::numeric_limits<double>::quiet_NaN(), 50);
  script.feed(std::numeric_limits<double>::infinity(), 1);  // an infinite reading is not evidence either
  script.feed(kAbove, 100);  // ticks 151..250
  const auto faults = script.faults();
  ASSERT_EQ(faults.size(), 1U);
  EXPECT_EQ(faults[0].tick, 200U) << "the run began at tick 0";
  EXPECT_EQ(script.monitor().ignored_readings(), 51U);

  script.feed(std::numeric_limits<double>::quiet_NaN(), 10);
  EXPECT_TRUE(script.monitor().active()) << "nor does one clear a raised fault";
}

}  // namespace
}  // namespace sil::services
