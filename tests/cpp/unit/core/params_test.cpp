// Parameters: the table a system derives from its services' SIL_PARAMS, the
// rules every change meets (all or nothing), values set before start, and
// what a change does to the services at the next tick.
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <variant>
#include <vector>

#include "sil/core/param_table.hpp"
#include "sil/core/simulation.hpp"
#include "test_system.hpp"
#include "thermal/messages.hpp"

namespace {

using sil::core::ParamError;
using sil::ipc::ParamAssignment;
using sil::ipc::ParamPhase;
using sil::ipc::ParamValue;

std::string joined(const std::vector<std::string>& errors) {
  std::string text;
  for (const auto& e : errors) text += e + "\n";
  return text;
}

TEST(Params, TheTableListsEveryInstancesParametersQualifiedByItsName) {
  const auto info = sil::test::Sim::catalogue_info();
  std::vector<std::string> names;
  for (const auto& p : info.params) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"plant.heat_capacity_j_per_k", "plant.loss_w_per_k", "plant.ambient_c",
                                             "plant.max_power_w", "thermostat.hysteresis_c",
                                             "thermostat.heater_on_power_w", "thermostat.start_setpoint_c",
                                             "monitor.threshold_c", "monitor.persistence_ns", "monitor.clear_below_c"}));
  const auto& persistence = info.params[8];
  EXPECT_EQ(persistence.kind, sil::ipc::ParamKind::u64);
  EXPECT_EQ(persistence.unit, "ns");
  EXPECT_EQ(persistence.default_value, ParamValue{std::uint64_t{2'000'000'000}});
  EXPECT_TRUE(info.params[6].restart);
  EXPECT_NE(info.hash, sil::test::Catalogue::hash) << "the parameters are part of the hash";
}

TEST(Params, EachRuleIsRefusedByNameAndNothingChanges) {
  sil::test::Sim sim(100);
  auto& table = sim.params();
  const struct {
    ParamAssignment assignment;
    std::string says;
  } cases[] = {
      {{"thermostat.nope", 1.0}, "thermostat.nope: no such parameter"},
      {{"thermostat.hysteresis_c", 51.0}, "thermostat.hysteresis_c: 51 is outside its range 0..50 C"},
      {{"thermostat.hysteresis_c", -0.1}, "outside its range"},
      {{"thermostat.hysteresis_c", std::numeric_limits<double>::quiet_NaN()}, "outside its range"},
      {{"thermostat.hysteresis_c", true}, "thermostat.hysteresis_c is an f64 (a number); got a bool true"},
      {{"monitor.persistence_ns", 1.5}, "monitor.persistence_ns is a u64 (an integer); got a float 1.5"},
      {{"monitor.persistence_ns", std::int64_t{-1}}, "monitor.persistence_ns: -1 is outside its range"},
      {{"monitor.persistence_ns", std::uint64_t{600'000'000'001}}, "outside its range 0..600000000000 ns"},
      {{"thermostat.start_setpoint_c", 40.0}, "takes effect at restart"},
  };
  for (const auto& c : cases) {
    // Each bad one together with a good one: the good one does not happen either.
    const std::vector<ParamAssignment> change{{"plant.ambient_c", 30.0}, c.assignment};
    const auto errors = table.set(change, ParamPhase::running);
    ASSERT_EQ(errors.size(), 1U) << c.says;
    EXPECT_NE(errors[0].find(c.says), std::string::npos) << errors[0] << " / expected: " << c.says;
    EXPECT_EQ(table.get(*table.find("plant.ambient_c")), ParamValue{20.0}) << c.says;
  }
  const std::vector<ParamAssignment> twice{{"plant.ambient_c", 30.0}, {"plant.ambient_c", 31.0}};
  EXPECT_NE(joined(table.set(twice, ParamPhase::running)).find("named twice"), std::string::npos);
}

TEST(Params, AnIntegerIsFineForAFloatParameterAndEveryErrorIsReported) {
  sil::test::Sim sim(100);
  const std::vector<ParamAssignment> change{{"thermostat.hysteresis_c", std::int64_t{2}},
                                            {"monitor.threshold_c", std::uint64_t{90}}};
  EXPECT_TRUE(sim.params().set(change, ParamPhase::running).empty());
  EXPECT_EQ(sim.params().get(*sim.params().find("thermostat.hysteresis_c")), ParamValue{2.0});
  const std::vector<ParamAssignment> bad{{"a.b", 1.0}, {"monitor.threshold_c", 1e9}};
  EXPECT_EQ(sim.params().set(bad, ParamPhase::running).size(), 2U);
}

TEST(Params, ValuesSetBeforeStartReachTheServicesConstructors) {
  const std::vector<ParamAssignment> start{{"plant.ambient_c", 30.0}, {"thermostat.start_setpoint_c", 42.0}};
  sil::test::Sim sim(100, sil::ipc::kUnknownBuild, start);
  EXPECT_EQ(sim.service<thermal::HeaterPlant>().temperature_c(), 30.0) << "the plant starts at ambient";
  EXPECT_EQ(sim.service<thermal::Thermostat>().setpoint_c(), 42.0);
  const std::vector<ParamAssignment> bad{{"monitor.threshold_c", 1e9}};
  EXPECT_THROW(sil::test::Sim(100, sil::ipc::kUnknownBuild, bad), ParamError);
}

struct Commands {
  std::vector<double> power_w;
  void on(const thermal::HeaterCommand& command) { power_w.push_back(command.power_w); }
};

TEST(Params, AChangeBetweenTicksActsFromTheNextTick) {
  sil::test::Sim sim(100);
  Commands commands;
  auto bus = sim.make_bus(commands);
  sim.step(bus);
  ASSERT_EQ(commands.power_w.back(), 2000.0) << "20 C is below the 50 C set point: heating";
  const std::vector<ParamAssignment> change{{"thermostat.heater_on_power_w", 750.0}};
  ASSERT_TRUE(sim.params().set(change, ParamPhase::running).empty());
  sim.step(bus);
  EXPECT_EQ(commands.power_w.back(), 750.0);
}

TEST(ParamText, ReadsEachTypeAndNamesWhatIsWrong) {
  const auto params = sil::test::Sim::catalogue_info().params;
  const auto value = [&](std::string_view text) {
    const auto parsed = sil::core::parse_assignment(params, text);
    return std::holds_alternative<ParamAssignment>(parsed) ? std::get<ParamAssignment>(parsed).value : ParamValue{};
  };
  const auto error = [&](std::string_view text) {
    const auto parsed = sil::core::parse_assignment(params, text);
    return std::holds_alternative<std::string>(parsed) ? std::get<std::string>(parsed) : std::string("(parsed)");
  };
  EXPECT_EQ(value("thermostat.hysteresis_c=0.8"), ParamValue{0.8});
  EXPECT_EQ(value(" monitor.persistence_ns = 500000000 "), ParamValue{std::uint64_t{500'000'000}});
  EXPECT_EQ(error("thermostat.hysteresis_c=warm"), "thermostat.hysteresis_c: 'warm' is not a number");
  EXPECT_EQ(error("monitor.persistence_ns=-5"), "monitor.persistence_ns: '-5' is not a non-negative integer");
  EXPECT_EQ(error("monitor.persistence_ns=1e9"), "monitor.persistence_ns: '1e9' is not a non-negative integer");
  EXPECT_EQ(error("thermostat.gain=1"), "thermostat.gain: no such parameter");
  EXPECT_EQ(error("hysteresis"), "'hysteresis' is not NAME=VALUE");
  EXPECT_EQ(error("thermostat.hysteresis_c="), "thermostat.hysteresis_c: '' is not a number");
}

}  // namespace
