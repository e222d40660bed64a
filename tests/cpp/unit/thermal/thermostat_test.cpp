// Thermostat on its own bus: the test plays the plant by publishing
// PlantTemperature readings and the harness by publishing SetPoints.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "sil/ipc/message_bus.hpp"
#include "thermal/messages.hpp"
#include "sil/ipc/sim_clock.hpp"
#include "thermal/thermostat.hpp"
#include "thermal_recorder.hpp"

namespace sil::services {
namespace {

using thermal::FaultMonitor;
using thermal::HeaterPlant;
using thermal::Thermostat;

using test::ThermalRecorder;

constexpr double kOn = Thermostat::kHeaterOnPowerW;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

class ThermostatTest : public ::testing::Test {
 protected:
  // The command the thermostat answers one reading with.
  double command_for(double temperature_c) {
    const std::size_t before = recorder_.count<thermal::HeaterCommand>();
    bus_.publish(thermal::PlantTemperature{.temperature_c = temperature_c, .heater_power_w = 0.0});
    const auto commands = recorder_.all<thermal::HeaterCommand>();
    if (commands.size() != before + 1) {
      ADD_FAILURE() << "a reading of " << temperature_c << " got " << commands.size() - before << " commands";
      return -1.0;
    }
    return commands.back().msg.power_w;
  }

  SimClock clock_{100};
  Thermostat thermostat_;
  ThermalRecorder recorder_{clock_};
  ipc::MessageBus<test::ThermalCatalogue, Thermostat, ThermalRecorder> bus_{thermostat_, recorder_};
};

TEST_F(ThermostatTest, StartsWithTheDefaultSetPointAndTheHeaterOff) {
  EXPECT_EQ(thermostat_.setpoint_c(), Thermostat::kDefaultSetpointC);
  EXPECT_EQ(thermostat_.setpoint_c(), 50.0);
  EXPECT_FALSE(thermostat_.heater_on());
  EXPECT_EQ(command_for(50.0), 0.0) << "inside the band it keeps its initial decision: off";
}

TEST_F(ThermostatTest, SwitchesOnBelowTheBandOffAboveItAndKeepsItsDecisionInside) {
  // Band around the default 50 C: 49.5 .. 50.5, both edges inside.
  const std::vector<std::pair<double, double>> script{
      {49.49, kOn}, {49.5, kOn}, {50.0, kOn}, {50.5, kOn},  // on until above the band
      {50.51, 0.0}, {50.5, 0.0}, {49.5, 0.0},               // off until below it
      {49.49, kOn}, {20.0, kOn}, {219.0, 0.0},
  };
  for (const auto& [temperature_c, expected_w] : script) {
    EXPECT_EQ(command_for(temperature_c), expected_w) << "at " << temperature_c << " C";
  }
}

TEST_F(ThermostatTest, ASetPointIsStoredAndActsOnlyAtTheNextReading) {
  EXPECT_EQ(command_for(45.0), kOn);

  bus_.publish(thermal::SetPoint{.setpoint_c = 30.0});
  EXPECT_EQ(thermostat_.setpoint_c(), 30.0);
  EXPECT_EQ(recorder_.count<thermal::HeaterCommand>(), 1U) << "a set point alone publishes nothing";
  EXPECT_TRUE(thermostat_.heater_on());

  EXPECT_EQ(command_for(45.0), 0.0) << "45 C is above the new band 29.5 .. 30.5";
}

TEST_F(ThermostatTest, IgnoresAndCountsANonFiniteSetPoint) {
  bus_.publish(thermal::SetPoint{.setpoint_c = 120.0});
  for (const double bad : {kNaN, kInf, -kInf}) bus_.publish(thermal::SetPoint{.setpoint_c = bad});

  EXPECT_EQ(thermostat_.setpoint_c(), 120.0);
  EXPECT_EQ(thermostat_.counters().rejected_set_points, 3U);
  EXPECT_EQ(command_for(100.0), kOn) << "still regulating to 120 C";
}

TEST_F(ThermostatTest, ANonFiniteTemperatureTurnsTheHeaterOff) {
  EXPECT_EQ(command_for(20.0), kOn);
  EXPECT_EQ(command_for(kNaN), 0.0);
  EXPECT_FALSE(thermostat_.heater_on());
  EXPECT_EQ(command_for(50.0), 0.0) << "back inside the band it keeps the safe decision";
  EXPECT_EQ(command_for(20.0), kOn) << "a valid reading below the band switches it on again";
  EXPECT_EQ(command_for(-kInf), 0.0);
}

TEST_F(ThermostatTest, AnyFiniteSetPointIsAcceptedEvenOneThePlantCannotReach) {
  bus_.publish(thermal::SetPoint{.setpoint_c = 1000.0});
  EXPECT_EQ(command_for(219.9), kOn);
  bus_.publish(thermal::SetPoint{.setpoint_c = -40.0});
  EXPECT_EQ(command_for(20.0), 0.0);
  EXPECT_EQ(thermostat_.counters().rejected_set_points, 0U);
}

}  // namespace
}  // namespace sil::services
