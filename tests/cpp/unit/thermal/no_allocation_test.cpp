// The thermal services never allocate in tick() or in a handler: the
// simulation sil-sim runs is stepped through raise, clear, bad inputs and
// set point changes while global operator new is counted (counting_new.cpp,
// linked only into thermal_alloc_tests). Nothing between the two readings of
// the count may allocate, so no gtest assertion runs in between.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <limits>

#include "../../alloc/counting_new.hpp"
#include "test_system.hpp"
#include "sil/ipc/messages.hpp"
#include "thermal/messages.hpp"

namespace sil::services {
namespace {

using thermal::FaultMonitor;
using thermal::HeaterPlant;
using thermal::Thermostat;

using test::allocation_count;

// Counts what reaches the end of the bus without storing it.
struct Tally {
  std::uint64_t readings = 0;
  std::uint64_t commands = 0;
  std::uint64_t raises = 0;
  std::uint64_t clears = 0;
  void on(const thermal::PlantTemperature&) { ++readings; }
  void on(const thermal::HeaterCommand&) { ++commands; }
  void on(const thermal::OverTemperatureFault& fault) { ++(fault.active == 1 ? raises : clears); }
};

TEST(ThermalAllocations, SteppingTheThermalServicesAllocatesNothing) {
  sil::test::Sim sim(100);
  Tally tally;
  auto bus = sim.make_bus(tally);
  sim.step(bus);  // first use of everything before counting
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

  const std::size_t before = allocation_count();
  bus.publish(thermal::SetPoint{.setpoint_c = 100.0});
  for (int i = 0; i < 6000; ++i) sim.step(bus);  // raised at about 37.7 s
  bus.publish(thermal::SetPoint{.setpoint_c = kNaN});
  bus.publish(thermal::HeaterCommand{.power_w = kNaN});
  bus.publish(thermal::PlantTemperature{.temperature_c = kNaN, .heater_power_w = 0.0});
  bus.publish(ipc::RevisionRequest{.request_id = 1});
  bus.publish(thermal::SetPoint{.setpoint_c = 30.0});
  for (int i = 0; i < 6000; ++i) sim.step(bus);  // cleared at about 97.5 s
  const std::size_t after = allocation_count();

  EXPECT_EQ(after, before);
  EXPECT_EQ(tally.readings, 12002U) << "12001 ticks and one injected reading";
  EXPECT_EQ(tally.raises, 1U);
  EXPECT_EQ(tally.clears, 1U);
}

}  // namespace
}  // namespace sil::services
