// The three thermal services together, as sil-sim runs them, stepped by hand
// with a recording subscriber at the end of the bus: no sockets, no wall time.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "test_system.hpp"
#include "sil/ipc/messages.hpp"
#include "thermal/messages.hpp"
#include "thermal/fault_monitor.hpp"
#include "thermal/heater_plant.hpp"
#include "thermal/thermostat.hpp"
#include "thermal_recorder.hpp"

namespace sil::services {
namespace {

using thermal::FaultMonitor;
using thermal::HeaterPlant;
using thermal::Thermostat;

using test::ThermalRecorder;

using ThermalSim = core::Simulation<test::ThermalServicesSystem>;
using Reading = test::AtTick<thermal::PlantTemperature>;

constexpr std::uint32_t kRate = 100;
constexpr std::uint64_t kTicksPerSecond = kRate;
constexpr double kPeriodS = 1.0 / kRate;
// The most the temperature can move in one tick: full power, no loss.
constexpr double kMaxStepC = HeaterPlant::kMaxPowerW / HeaterPlant::kHeatCapacityJPerK * kPeriodS;
constexpr double kToleranceC = 1e-6;  // the plant is exact; this is rounding

double seconds_at(std::uint64_t tick) { return static_cast<double>(tick) / kRate; }

// The plant's temperature heating at full power from ambient since t = 0.
double full_power_curve(double t_s) {
  return HeaterPlant::kMaxSteadyStateC -
         (HeaterPlant::kMaxSteadyStateC - HeaterPlant::kAmbientC) * std::exp(-t_s / HeaterPlant::kTimeConstantS);
}

// The first tick at which the full-power curve is above `c`.
std::uint64_t first_tick_above_on_full_power(double c) {
  std::uint64_t tick = 0;
  while (!(full_power_curve(seconds_at(tick)) > c)) ++tick;
  return tick;
}

template <class Sim>
void run(Sim& sim, ipc::Publisher auto& bus, std::uint64_t ticks) {
  for (std::uint64_t i = 0; i < ticks; ++i) sim.step(bus);
}

TEST(ThermalSystem, IsPartOfTheSimulationSilSimRunsAndReactsWithinTheTick) {
  sil::test::Sim sim(kRate);
  ThermalRecorder recorder(sim.clock());
  auto bus = sim.make_bus(recorder);
  sim.step(bus);

  // Depth-first delivery: the thermostat answers the reading before the
  // reading has reached the end of the bus, so the command comes out first.
  std::vector<ipc::MsgId> ids;
  for (const auto& m : recorder.messages()) ids.push_back(m.id);
  EXPECT_EQ(ids, (std::vector<ipc::MsgId>{ipc::MsgId::Heartbeat, thermal::HeaterCommand::id,
                                          thermal::PlantTemperature::id}));
  const auto reading = recorder.all<thermal::PlantTemperature>().at(0).msg;
  EXPECT_EQ(reading.temperature_c, HeaterPlant::kAmbientC);
  EXPECT_EQ(reading.heater_power_w, 0.0);
  EXPECT_EQ(recorder.all<thermal::HeaterCommand>().at(0).msg.power_w, Thermostat::kHeaterOnPowerW)
      << "20 C is below the default set point's band";
}

TEST(ThermalSystem, HeatsToTheDefaultSetPointAndSettlesWithinTheHysteresisBand) {
  ThermalSim sim(kRate);
  ThermalRecorder recorder(sim.clock());
  auto bus = sim.make_bus(recorder);
  run(sim, bus, 120 * kTicksPerSecond);

  constexpr double kLow = Thermostat::kDefaultSetpointC - Thermostat::kHysteresisC;   // 49.5
  constexpr double kHigh = Thermostat::kDefaultSetpointC + Thermostat::kHysteresisC;  // 50.5
  const auto readings = recorder.all<thermal::PlantTemperature>();
  ASSERT_EQ(readings.size(), 120 * kTicksPerSecond);

  // Heating at full power until it first leaves the band at the top.
  std::size_t k = 0;
  while (k < readings.size() && !(readings[k].msg.temperature_c > kHigh)) {
    EXPECT_NEAR(readings[k].msg.temperature_c, full_power_curve(seconds_at(readings[k].tick)), kToleranceC);
    ++k;
  }
  ASSERT_LT(k, readings.size()) << "never reached the set point";
  EXPECT_EQ(readings[k].tick, first_tick_above_on_full_power(kHigh));
  EXPECT_EQ(readings[k].tick, 1655U) << "16.55 s, as docs/example-thermal.md says: tau * ln(200 / 169.5) = 16.546 s";

  // From then on it stays in the band, give or take one tick's movement.
  std::uint64_t switched_on = 0;
  std::uint64_t switched_off = 0;
  for (; k < readings.size(); ++k) {
    const double c = readings[k].msg.temperature_c;
    ASSERT_GE(c, kLow - kMaxStepC) << "tick " << readings[k].tick;
    ASSERT_LE(c, kHigh + kMaxStepC) << "tick " << readings[k].tick;
    if (k > 0 && readings[k].msg.heater_power_w != readings[k - 1].msg.heater_power_w) {
      ++(readings[k].msg.heater_power_w > 0.0 ? switched_on : switched_off);
    }
  }
  // Cooling across the 1 C band takes about 3.3 s and heating 0.6 s: about
  // 25 cycles in the remaining 103 s. It regulates; it is not stuck.
  EXPECT_GE(switched_on, 20U);
  EXPECT_GE(switched_off, 20U);
  EXPECT_EQ(recorder.count<thermal::OverTemperatureFault>(), 0U);
}

TEST(ThermalSystem, WithTheHeaterForcedOnTheTemperatureFollowsTheAnalyticResponse) {
  ThermalSim sim(kRate);
  ThermalRecorder recorder(sim.clock());
  auto bus = sim.make_bus(recorder);
  // A set point the plant cannot reach keeps the thermostat at full power.
  bus.publish(thermal::SetPoint{.setpoint_c = HeaterPlant::kMaxSteadyStateC + 100.0});
  run(sim, bus, 300 * kTicksPerSecond);

  const auto readings = recorder.all<thermal::PlantTemperature>();
  ASSERT_EQ(readings.size(), 300 * kTicksPerSecond);
  for (const auto& [tick, reading] : readings) {
    ASSERT_NEAR(reading.temperature_c, full_power_curve(seconds_at(tick)), kToleranceC) << "tick " << tick;
    // The thermostat switches the heater on in reaction to the first reading.
    ASSERT_EQ(reading.heater_power_w, tick == 0 ? 0.0 : HeaterPlant::kMaxPowerW) << "tick " << tick;
  }
  // One time constant in: 63.2 % of the way from 20 C to 220 C.
  EXPECT_NEAR(readings[100 * kTicksPerSecond].msg.temperature_c, 220.0 - 200.0 / std::exp(1.0), kToleranceC);
}

// Two identical simulations run side by side to a moment where the heater
// is off and cooling inside the band; only one of them then gets a new set
// point. The very next tick's command differs, and only that.
TEST(ThermalSystem, ASetPointChangeTakesEffectAtTheVeryNextTick) {
  ThermalSim changed(kRate);
  ThermalSim control(kRate);
  ThermalRecorder changed_log(changed.clock());
  ThermalRecorder control_log(control.clock());
  auto changed_bus = changed.make_bus(changed_log);
  auto control_bus = control.make_bus(control_log);

  const auto off_and_above_the_set_point = [&] {
    return !changed.service<Thermostat>().heater_on() &&
           changed.service<HeaterPlant>().temperature_c() > Thermostat::kDefaultSetpointC;
  };
  run(changed, changed_bus, 30 * kTicksPerSecond);
  run(control, control_bus, 30 * kTicksPerSecond);
  while (!off_and_above_the_set_point()) {
    changed.step(changed_bus);
    control.step(control_bus);
    ASSERT_LT(changed.clock().tick(), 60 * kTicksPerSecond) << "never found the heater off in the band";
  }
  const std::uint64_t next_tick = changed.clock().tick();
  const std::size_t commands_before = changed_log.count<thermal::HeaterCommand>();

  changed_bus.publish(thermal::SetPoint{.setpoint_c = 150.0});
  EXPECT_EQ(changed_log.count<thermal::HeaterCommand>(), commands_before) << "a set point alone publishes nothing";
  changed.step(changed_bus);
  control.step(control_bus);

  const auto changed_command = changed_log.all<thermal::HeaterCommand>().back();
  const auto control_command = control_log.all<thermal::HeaterCommand>().back();
  EXPECT_EQ(changed_command.tick, next_tick);
  EXPECT_EQ(changed_command.msg.power_w, Thermostat::kHeaterOnPowerW);
  EXPECT_EQ(control_command.tick, next_tick);
  EXPECT_EQ(control_command.msg.power_w, 0.0) << "without the change the heater stays off";
  // That tick's reading still shows the power from before the decision;
  // the plant heats from the decision on, and reports it a tick later.
  EXPECT_EQ(changed_log.all<thermal::PlantTemperature>().back().msg.heater_power_w, 0.0);
  const double before_c = changed.service<HeaterPlant>().temperature_c();
  changed.step(changed_bus);
  const auto after = changed_log.all<thermal::PlantTemperature>().back().msg;
  EXPECT_EQ(after.heater_power_w, HeaterPlant::kMaxPowerW);
  EXPECT_GT(after.temperature_c, before_c);

  // And back: while heating, a set point far below switches it off at the next tick.
  changed_bus.publish(thermal::SetPoint{.setpoint_c = HeaterPlant::kAmbientC});
  changed.step(changed_bus);
  EXPECT_EQ(changed_log.all<thermal::HeaterCommand>().back().msg.power_w, 0.0);
}

TEST(ThermalSystem, RaisesTheFaultTwoSecondsAfterTheFirstReadingAbove80CAndClearsBelow75C) {
  ThermalSim sim(kRate);
  ThermalRecorder recorder(sim.clock());
  auto bus = sim.make_bus(recorder);
  bus.publish(thermal::SetPoint{.setpoint_c = 100.0});
  run(sim, bus, 60 * kTicksPerSecond);  // at full power until above 100.5 C, at about 51.5 s
  bus.publish(thermal::SetPoint{.setpoint_c = Thermostat::kDefaultSetpointC});
  run(sim, bus, 60 * kTicksPerSecond);  // heater off: cools towards 50 C

  // Where the plant first exceeds 80 C, from the model and from the record.
  const std::uint64_t first_above = first_tick_above_on_full_power(FaultMonitor::kThresholdC);
  EXPECT_EQ(first_above, 3567U) << "35.67 s, as docs/example-thermal.md says: tau * ln(200 / 140) = 35.667 s";
  const auto readings = recorder.all<thermal::PlantTemperature>();
  ASSERT_LE(readings[first_above - 1].msg.temperature_c, FaultMonitor::kThresholdC);
  ASSERT_GT(readings[first_above].msg.temperature_c, FaultMonitor::kThresholdC);

  std::uint64_t first_below_clear = 0;
  for (const auto& [tick, reading] : readings) {
    if (tick > 60 * kTicksPerSecond && reading.temperature_c < FaultMonitor::kClearBelowC) {
      first_below_clear = tick;
      break;
    }
  }
  ASSERT_NE(first_below_clear, 0U) << "never cooled below the clear level";

  const auto faults = recorder.all<thermal::OverTemperatureFault>();
  ASSERT_EQ(faults.size(), 2U) << "one raise, one clear";
  const std::uint64_t raise_tick = first_above + 2 * kTicksPerSecond;
  EXPECT_EQ(faults[0].tick, raise_tick);
  EXPECT_EQ(faults[0].msg.active, 1);
  EXPECT_EQ(faults[0].msg.raised_at_ns, sim.clock().ns_at(raise_tick));
  EXPECT_EQ(faults[0].msg.temperature_c, readings[raise_tick].msg.temperature_c);
  EXPECT_EQ(faults[1].tick, first_below_clear);
  EXPECT_EQ(faults[1].msg.active, 0);
  EXPECT_EQ(faults[1].msg.temperature_c, readings[first_below_clear].msg.temperature_c);
  EXPECT_EQ(faults[1].msg.raised_at_ns, faults[0].msg.raised_at_ns);
}

// Why the fault monitor has a persistence time: regulating at exactly the
// threshold, the temperature crosses it every cycle, but never for 2 s.
TEST(ThermalSystem, RegulatingAtTheThresholdCrossesItEveryCycleWithoutAFault) {
  ThermalSim sim(kRate);
  ThermalRecorder recorder(sim.clock());
  auto bus = sim.make_bus(recorder);
  bus.publish(thermal::SetPoint{.setpoint_c = FaultMonitor::kThresholdC});
  run(sim, bus, 600 * kTicksPerSecond);

  std::uint64_t runs = 0;
  std::uint64_t longest_run_ticks = 0;
  std::uint64_t run_ticks = 0;
  for (const auto& [tick, reading] : recorder.all<thermal::PlantTemperature>()) {
    if (reading.temperature_c > FaultMonitor::kThresholdC) {
      if (run_ticks++ == 0) ++runs;
      longest_run_ticks = std::max(longest_run_ticks, run_ticks);
    } else {
      run_ticks = 0;
    }
  }
  EXPECT_GE(runs, 50U) << "it crosses 80 C once per cycle";
  EXPECT_LT(longest_run_ticks, 2 * kTicksPerSecond);
  EXPECT_EQ(recorder.count<thermal::OverTemperatureFault>(), 0U);
  EXPECT_FALSE(sim.service<FaultMonitor>().active());

  // One degree more and the band lies wholly above the threshold.
  bus.publish(thermal::SetPoint{.setpoint_c = FaultMonitor::kThresholdC + 1.0});
  const std::uint64_t changed_at = sim.clock().tick();
  run(sim, bus, 10 * kTicksPerSecond);
  const auto readings = recorder.all<thermal::PlantTemperature>();
  std::uint64_t run_start = changed_at;
  while (readings[run_start - 1].msg.temperature_c > FaultMonitor::kThresholdC) --run_start;
  while (!(readings[run_start].msg.temperature_c > FaultMonitor::kThresholdC)) ++run_start;
  const auto faults = recorder.all<thermal::OverTemperatureFault>();
  ASSERT_EQ(faults.size(), 1U);
  EXPECT_EQ(faults[0].tick, run_start + 2 * kTicksPerSecond);
}

// The input script of the determinism test: what a harness injects, and when.
struct Injection {
  std::uint64_t tick;
  enum class Kind { set_point, temperature, heater, revision } kind;
  double value;
};

std::vector<test::RecordedMessage> record_scripted_run(const std::vector<Injection>& script, std::uint64_t ticks) {
  sil::test::Sim sim(kRate);
  ThermalRecorder recorder(sim.clock());
  auto bus = sim.make_bus(recorder);
  std::size_t next = 0;
  for (std::uint64_t tick = 0; tick < ticks; ++tick) {
    for (; next < script.size() && script[next].tick == tick; ++next) {
      const Injection& in = script[next];
      switch (in.kind) {
        case Injection::Kind::set_point: bus.publish(thermal::SetPoint{.setpoint_c = in.value}); break;
        case Injection::Kind::temperature:
          bus.publish(thermal::PlantTemperature{.temperature_c = in.value, .heater_power_w = 0.0});
          break;
        case Injection::Kind::heater: bus.publish(thermal::HeaterCommand{.power_w = in.value}); break;
        case Injection::Kind::revision:
          bus.publish(ipc::RevisionRequest{.request_id = static_cast<std::uint32_t>(in.value)});
          break;
      }
    }
    sim.step(bus);
  }
  return recorder.messages();
}

TEST(ThermalSystem, TheSameInputsGiveByteIdenticalOutputs) {
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  using K = Injection::Kind;
  // Heat to 100 C, with a bad set point, a bad and an absurd reading and a
  // revision request on the way; cool at 60 s, with a stray heater command
  // at 70 s; heat to 95 C again at 110 s.
  const std::vector<Injection> script{
      {0, K::set_point, 100.0},    {0, K::revision, 1.0},          {2500, K::set_point, kNaN},
      {4000, K::temperature, kNaN}, {4100, K::temperature, 500.0}, {6000, K::set_point, 40.0},
      {7000, K::heater, 1234.5},    {7001, K::heater, -1.0},       {11000, K::set_point, 95.0},
      {11000, K::revision, 2.0},
  };
  constexpr std::uint64_t kTicks = 150 * kTicksPerSecond;

  const auto first = record_scripted_run(script, kTicks);
  const auto second = record_scripted_run(script, kTicks);

  ASSERT_EQ(first.size(), second.size());
  for (std::size_t i = 0; i < first.size(); ++i) {
    ASSERT_EQ(first[i], second[i]) << "message " << i << " (tick " << first[i].tick << ", id "
                                   << static_cast<std::uint16_t>(first[i].id) << ")";
  }
  // The script went through the interesting paths: raised (about 37.7 s),
  // cleared while cooling (about 97.5 s), raised again (about 120 s).
  std::size_t raises = 0;
  std::size_t clears = 0;
  for (const auto& m : first) {
    if (m.id != thermal::OverTemperatureFault::id) continue;
    ++(m.bytes.at(0) == 1 ? raises : clears);
  }
  EXPECT_EQ(raises, 2U);
  EXPECT_EQ(clears, 1U);
}

}  // namespace
}  // namespace sil::services
