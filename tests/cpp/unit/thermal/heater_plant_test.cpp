// HeaterPlant on its own, stepped by hand: the test plays the thermostat by
// publishing HeaterCommands between steps.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "test_system.hpp"
#include "thermal/messages.hpp"
#include "thermal/heater_plant.hpp"
#include "thermal_recorder.hpp"

namespace sil::services {
namespace {

using thermal::FaultMonitor;
using thermal::HeaterPlant;
using thermal::Thermostat;

using test::ThermalRecorder;

using PlantOnly = core::Simulation<test::PlantOnlySystem>;

// The plant integrates the exact solution, so what separates it from the
// formula is rounding only; a forward-Euler step at 1 Hz would be off by
// about 0.4 C on this curve, far outside this.
constexpr double kToleranceC = 1e-6;

double seconds(std::uint64_t ns) { return static_cast<double>(ns) / 1e9; }

// Heating at constant power P from T0 at t0.
double first_order(double t0_c, double power_w, double elapsed_s) {
  const double equilibrium_c = HeaterPlant::kAmbientC + power_w / HeaterPlant::kLossWPerK;
  return equilibrium_c + (t0_c - equilibrium_c) * std::exp(-elapsed_s / HeaterPlant::kTimeConstantS);
}

TEST(HeaterPlant, ConstantsDescribeAPlantThatLevelsOffAt220C) {
  EXPECT_EQ(HeaterPlant::kTimeConstantS, 100.0);
  EXPECT_EQ(HeaterPlant::kMaxSteadyStateC, 220.0);
}

TEST(HeaterPlant, StartsAtAmbientWithTheHeaterOffAndStaysThereUnheated) {
  PlantOnly sim(100);
  ThermalRecorder recorder(sim.clock());
  auto bus = sim.make_bus(recorder);

  for (int i = 0; i < 1000; ++i) sim.step(bus);

  const auto readings = recorder.all<thermal::PlantTemperature>();
  ASSERT_EQ(readings.size(), 1000U) << "one reading per tick";
  for (std::uint64_t k = 0; k < readings.size(); ++k) {
    EXPECT_EQ(readings[k].tick, k);
    EXPECT_EQ(readings[k].msg.temperature_c, HeaterPlant::kAmbientC);
    EXPECT_EQ(readings[k].msg.heater_power_w, 0.0);
  }
}

// The same curve at every rate: the model depends on simulated time, not on
// how many ticks it was cut into. 7919 Hz does not divide a second evenly.
class PlantAtRate : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(PlantAtRate, AtFullPowerFollowsTheAnalyticFirstOrderResponse) {
  const std::uint32_t rate = GetParam();
  PlantOnly sim(rate);
  ThermalRecorder recorder(sim.clock());
  auto bus = sim.make_bus(recorder);

  bus.publish(thermal::HeaterCommand{.power_w = HeaterPlant::kMaxPowerW});  // at t = 0
  const std::uint64_t ticks = 200ULL * rate + 1;                         // two time constants
  double worst_error_c = 0.0;
  double previous_c = -1.0;
  for (std::uint64_t k = 0; k < ticks; ++k) {
    sim.step(bus);
    const double measured_c = sim.service<HeaterPlant>().temperature_c();
    const double expected_c =
        first_order(HeaterPlant::kAmbientC, HeaterPlant::kMaxPowerW, seconds(sim.clock().ns_at(k)));
    worst_error_c = std::max(worst_error_c, std::abs(measured_c - expected_c));
    ASSERT_GT(measured_c, previous_c) << "heating at full power is strictly monotonic, tick " << k;
    previous_c = measured_c;
  }
  EXPECT_LT(worst_error_c, kToleranceC);
  // After two time constants: 220 - 200 / e^2.
  EXPECT_NEAR(previous_c, 220.0 - 200.0 * std::exp(-2.0), kToleranceC);
  EXPECT_EQ(recorder.count<thermal::PlantTemperature>(), ticks);
}

INSTANTIATE_TEST_SUITE_P(Rates, PlantAtRate, ::testing::Values(1U, 10U, 100U, 1000U, 7919U));

TEST(HeaterPlant, ACommandTakesEffectAtTheSimulatedTimeItArrives) {
  PlantOnly sim(10);
  ThermalRecorder recorder(sim.clock());
  auto bus = sim.make_bus(recorder);

  bus.publish(thermal::HeaterCommand{.power_w = HeaterPlant::kMaxPowerW});
  for (int i = 0; i < 500; ++i) sim.step(bus);  // ticks 0..499; the clock now reads 50 s
  ASSERT_EQ(sim.clock().now_ns(), 50'000'000'000ULL);
  bus.publish(thermal::HeaterCommand{.power_w = 0.0});  // arrives at t = 50 s
  for (int i = 0; i < 500; ++i) sim.step(bus);      // ticks 500..999

  const double at_50_s_c = first_order(HeaterPlant::kAmbientC, HeaterPlant::kMaxPowerW, 50.0);
  const auto readings = recorder.all<thermal::PlantTemperature>();
  ASSERT_EQ(readings.size(), 1000U);
  for (const auto& [tick, reading] : readings) {
    const double t_s = seconds(sim.clock().ns_at(tick));
    const double expected_c = tick < 500 ? first_order(HeaterPlant::kAmbientC, HeaterPlant::kMaxPowerW, t_s)
                                         : first_order(at_50_s_c, 0.0, t_s - 50.0);
    EXPECT_NEAR(reading.temperature_c, expected_c, kToleranceC) << "tick " << tick;
    EXPECT_EQ(reading.heater_power_w, tick < 500 ? HeaterPlant::kMaxPowerW : 0.0) << "tick " << tick;
  }
  // The last reading before the switch and the first after: both at their curve's t = 50 s.
  EXPECT_NEAR(readings[500].msg.temperature_c, at_50_s_c, kToleranceC);
  EXPECT_LT(readings[999].msg.temperature_c, readings[500].msg.temperature_c) << "cooling once off";
}

TEST(HeaterPlant, ClampsTheCommandedPowerToTheHeatersRange) {
  PlantOnly sim(100);
  ThermalRecorder recorder(sim.clock());
  auto bus = sim.make_bus(recorder);
  HeaterPlant& plant = sim.service<HeaterPlant>();

  bus.publish(thermal::HeaterCommand{.power_w = -250.0});
  EXPECT_EQ(plant.power_w(), 0.0);
  bus.publish(thermal::HeaterCommand{.power_w = 1e12});
  EXPECT_EQ(plant.power_w(), HeaterPlant::kMaxPowerW);
  bus.publish(thermal::HeaterCommand{.power_w = 750.0});
  EXPECT_EQ(plant.power_w(), 750.0);
  sim.step(bus);
  EXPECT_EQ(recorder.all<thermal::PlantTemperature>().back().msg.heater_power_w, 750.0);
  EXPECT_EQ(plant.rejected_commands(), 0U);
}

TEST(HeaterPlant, IgnoresAndCountsANonFinitePower) {
  PlantOnly sim(100);
  ThermalRecorder recorder(sim.clock());
  auto bus = sim.make_bus(recorder);
  HeaterPlant& plant = sim.service<HeaterPlant>();

  bus.publish(thermal::HeaterCommand{.power_w = 1000.0});
  for (const double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity()}) {
    bus.publish(thermal::HeaterCommand{.power_w = bad});
  }
  for (int i = 0; i < 100; ++i) sim.step(bus);

  EXPECT_EQ(plant.rejected_commands(), 3U);
  EXPECT_EQ(plant.power_w(), 1000.0);
  const auto last = recorder.all<thermal::PlantTemperature>().back().msg;
  EXPECT_TRUE(std::isfinite(last.temperature_c));
  EXPECT_NEAR(last.temperature_c, first_order(HeaterPlant::kAmbientC, 1000.0, 0.99), kToleranceC);
}

TEST(HeaterPlant, AtFullPowerLevelsOffAtTheMaximumSteadyStateAndNeverPassesIt) {
  PlantOnly sim(1);
  ThermalRecorder recorder(sim.clock());
  auto bus = sim.make_bus(recorder);
  bus.publish(thermal::HeaterCommand{.power_w = HeaterPlant::kMaxPowerW});
  for (int i = 0; i < 5000; ++i) sim.step(bus);  // 50 time constants

  for (const auto& [tick, reading] : recorder.all<thermal::PlantTemperature>()) {
    ASSERT_LE(reading.temperature_c, HeaterPlant::kMaxSteadyStateC) << "tick " << tick;
  }
  EXPECT_NEAR(sim.service<HeaterPlant>().temperature_c(), HeaterPlant::kMaxSteadyStateC, kToleranceC);
}

}  // namespace
}  // namespace sil::services
