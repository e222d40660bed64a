// Faults limited to what one service instance publishes: the bus tells the
// fault stage who published, from a tick (two plants of one class) and from
// a handler (the thermostat answering a reading), and a message from outside
// the system's instances (the harness) is never taken for one of them.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "sil/core/faults.hpp"
#include "sil/core/simulation.hpp"
#include "sil/core/system.hpp"
#include "test_system.hpp"
#include "thermal/heater_plant.hpp"
#include "thermal/messages.hpp"

namespace {

using sil::core::FaultKind;
using sil::core::FaultSpec;

constexpr thermal::HeaterPlant::Params kColdPlant{.ambient_c = 5.0};

// Two plants of one class, both publishing PlantTemperature every tick.
struct TwoPlants : sil::SystemDefaults {
  using messages = sil::Messages<thermal::SetPoint, thermal::PlantTemperature, thermal::HeaterCommand,
                                 thermal::OverTemperatureFault>;
  using services = sil::Services<sil::Instance<"left", thermal::HeaterPlant>,
                                 sil::Instance<"right", thermal::HeaterPlant, &kColdPlant>>;
};

struct Readings {
  std::vector<double> temperature_c;
  void on(const thermal::PlantTemperature& reading) { temperature_c.push_back(reading.temperature_c); }
};

struct Commands {
  std::vector<double> power_w;
  void on(const thermal::HeaterCommand& command) { power_w.push_back(command.power_w); }
};

template <class Sim>
std::uint32_t add(Sim& sim, const FaultSpec& spec) {
  const auto added = sim.faults().add(spec);
  if (const auto* error = std::get_if<std::string>(&added)) ADD_FAILURE() << *error;
  return std::get<std::uint32_t>(added);
}

constexpr auto kReading = static_cast<std::uint16_t>(thermal::PlantTemperature::id);
constexpr auto kCommand = static_cast<std::uint16_t>(thermal::HeaterCommand::id);

TEST(FaultByInstance, AFieldFaultOnOnePlantLeavesTheOtherPlantOfTheSameClassAlone) {
  sil::core::Simulation<TwoPlants> sim(100);
  Readings readings;
  auto bus = sim.make_bus(readings);
  add(sim, {.kind = FaultKind::field, .msg_id = kReading, .field = "temperature_c",
            .op = sil::core::FieldOp::offset, .value = 100.0, .instance = "left"});
  for (int i = 0; i < 3; ++i) sim.step(bus);
  ASSERT_EQ(readings.temperature_c.size(), 6U) << "both plants publish each tick, left first";
  for (std::size_t i = 0; i < readings.temperature_c.size(); i += 2) {
    EXPECT_GE(readings.temperature_c[i], 100.0) << "the left plant's reading is offset";
    EXPECT_LT(readings.temperature_c[i + 1], 10.0) << "the right plant's (ambient 5 C) is not";
  }
  EXPECT_EQ(sim.faults().faults().at(0).affected, 3U) << "three readings of the left plant";
}

TEST(FaultByInstance, AFreezeOnOnePlantHoldsOnlyThatPlantsLastValue) {
  sil::core::Simulation<TwoPlants> sim(100);
  Readings readings;
  auto bus = sim.make_bus(readings);
  bus.publish(thermal::HeaterCommand{.power_w = 2000.0});  // both plants heat
  sim.step(bus);
  const double left_before = readings.temperature_c[0];
  add(sim, {.kind = FaultKind::freeze, .msg_id = kReading, .instance = "right"});
  for (int i = 0; i < 50; ++i) sim.step(bus);
  EXPECT_GT(readings.temperature_c[readings.temperature_c.size() - 2], left_before) << "left goes on heating";
  // Nothing came before the fault existed, so it holds the first reading it saw.
  EXPECT_GT(readings.temperature_c[3], readings.temperature_c[1]) << "right was heating when it froze";
  for (std::size_t i = 5; i < readings.temperature_c.size(); i += 2)
    ASSERT_EQ(readings.temperature_c[i], readings.temperature_c[3]) << "right holds one value";
  EXPECT_NE(readings.temperature_c.back(), readings.temperature_c[readings.temperature_c.size() - 2])
      << "it held the right plant's own value, not the left's";
}

// The thermostat publishes HeaterCommand from its on(PlantTemperature); the
// harness (anything publishing on the bus itself) is no instance.
TEST(FaultByInstance, AHandlersPublicationIsItsInstancesAndTheHarnessIsNone) {
  sil::test::Sim sim(100);
  Commands commands;
  auto bus = sim.make_bus(commands);
  add(sim, {.kind = FaultKind::drop, .msg_id = kCommand, .instance = "thermostat"});
  add(sim, {.kind = FaultKind::drop, .msg_id = kCommand, .instance = "plant"});
  for (int i = 0; i < 5; ++i) sim.step(bus);
  EXPECT_TRUE(commands.power_w.empty()) << "every command the thermostat published was dropped";
  EXPECT_EQ(sim.faults().faults().at(0).affected, 5U);
  EXPECT_EQ(sim.faults().faults().at(1).affected, 0U) << "the plant publishes no command";

  bus.publish(thermal::HeaterCommand{.power_w = 123.0});
  ASSERT_EQ(commands.power_w.size(), 1U) << "a command from the harness is nobody's instance: it passes";
  EXPECT_EQ(commands.power_w[0], 123.0);
  EXPECT_EQ(sim.service<thermal::HeaterPlant>().power_w(), 123.0);

  sim.faults().clear();
  add(sim, {.kind = FaultKind::drop, .msg_id = kCommand});
  bus.publish(thermal::HeaterCommand{.power_w = 7.0});
  sim.step(bus);
  EXPECT_EQ(commands.power_w.size(), 1U) << "without an instance the fault takes every publisher's";
}

// A delayed reading is released past the stage; the thermostat's answer to
// it is still its own publication, which its own fault takes.
TEST(FaultByInstance, AnAnswerToADelayedMessageIsStillItsPublishersOwn) {
  sil::test::Sim sim(100);
  Commands commands;
  auto bus = sim.make_bus(commands);
  add(sim, {.kind = FaultKind::delay, .msg_id = kReading, .delay_ns = 20'000'000, .instance = "plant"});
  add(sim, {.kind = FaultKind::field, .msg_id = kCommand, .field = "power_w", .op = sil::core::FieldOp::set,
            .value = 42.0, .instance = "thermostat"});
  for (int i = 0; i < 4; ++i) sim.step(bus);
  ASSERT_EQ(commands.power_w.size(), 2U) << "readings of ticks 0 and 1 released at ticks 2 and 3";
  EXPECT_EQ(commands.power_w[0], 42.0);
  EXPECT_EQ(commands.power_w[1], 42.0);
}

TEST(FaultByInstance, AnUnknownInstanceIsRefusedNamingTheInstances) {
  sil::test::Sim sim(100);
  const auto refused = sim.faults().add({.kind = FaultKind::drop, .msg_id = kReading, .instance = "lefty"});
  ASSERT_TRUE(std::holds_alternative<std::string>(refused));
  EXPECT_EQ(std::get<std::string>(refused),
            "drop on PlantTemperature: this system has no instance 'lefty' (instances: revision, heartbeat, plant, "
            "thermostat, monitor)");
  EXPECT_TRUE(sim.faults().faults().empty());
}

}  // namespace
