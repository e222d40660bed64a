// What a system declares, and what the simulation makes of it: instances
// with configuration, two instances of one service class under their own
// names, constructors taking the context, opting out of the framework's
// services.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "sil/core/simulation.hpp"
#include "sil/core/system.hpp"
#include "sil/ipc/declare.hpp"
#include "thermal/heater_plant.hpp"
#include "thermal/messages.hpp"

namespace {

constexpr thermal::HeaterPlant::Params kLeftPlant{.max_power_w = 500.0};
constexpr thermal::HeaterPlant::Params kRightPlant{.ambient_c = 5.0};

// Two plants of one class, each with its own physics, both hearing every HeaterCommand.
struct TwoPlants : sil::SystemDefaults {
  using messages = sil::Messages<thermal::SetPoint, thermal::PlantTemperature, thermal::HeaterCommand,
                                 thermal::OverTemperatureFault>;
  using services = sil::Services<sil::Instance<"left", thermal::HeaterPlant, &kLeftPlant>,
                                 sil::Instance<"right", thermal::HeaterPlant, &kRightPlant>>;
};

struct Readings {
  std::vector<double> temperatures;
  void on(const thermal::PlantTemperature& reading) { temperatures.push_back(reading.temperature_c); }
};

TEST(System, TwoInstancesOfOneServiceKeepTheirOwnConfigAndState) {
  sil::core::Simulation<TwoPlants> sim(100);
  auto& left = sim.service<"left">();
  auto& right = sim.service<"right">();
  EXPECT_NE(&left, &right);
  EXPECT_EQ(left.params().max_power_w, 500.0);
  EXPECT_EQ(right.params().max_power_w, thermal::HeaterPlant::kMaxPowerW);
  EXPECT_EQ(right.temperature_c(), 5.0) << "the right plant starts at its own ambient";

  Readings readings;
  auto bus = sim.make_bus(readings);
  bus.publish(thermal::HeaterCommand{.power_w = 2000.0});
  EXPECT_EQ(left.power_w(), 500.0) << "clamped to the left plant's own limit";
  EXPECT_EQ(right.power_w(), 2000.0);
  sim.step(bus);
  ASSERT_EQ(readings.temperatures.size(), 2U) << "each instance ticks and publishes";
  EXPECT_EQ(readings.temperatures[0], left.temperature_c()) << "instances tick in system order";
  EXPECT_EQ(readings.temperatures[1], right.temperature_c());
  for (int i = 0; i < 1000; ++i) sim.step(bus);
  EXPECT_LT(left.temperature_c(), right.temperature_c() + 60.0);
  EXPECT_GT(right.temperature_c() - right.params().ambient_c, left.temperature_c() - left.params().ambient_c)
      << "2000 W heats the right plant more than 500 W the left";
}

// A service that reads its context: its own name, the system's build and catalogue.
class NameReporter {
 public:
  struct Config {
    int factor = 1;
  };
  NameReporter(const sil::ServiceContext& context, const Config& config)
      : name_(context.instance), version_(context.build.version), hash_(context.catalogue_hash), factor_(config.factor) {}
  std::string name_;
  std::string version_;
  std::uint32_t hash_;
  int factor_;
};
constexpr NameReporter::Config kTriple{.factor = 3};

SIL_MESSAGE(Ping, 3000, (sil::u32, n));

struct ContextSystem : sil::SystemDefaults {
  using messages = sil::Messages<Ping>;
  using services = sil::Services<sil::Instance<"first", NameReporter>, sil::Instance<"second", NameReporter, &kTriple>>;
  static constexpr bool framework_services = false;
};

TEST(System, ServicesAreGivenTheirNameTheBuildAndTheCatalogueHash) {
  constexpr sil::BuildInfo build{"4.5.6", 4, 5, 6, "abc", false, 7};
  sil::core::Simulation<ContextSystem> sim(50, build);
  EXPECT_EQ(sim.service<"first">().name_, "first");
  EXPECT_EQ(sim.service<"second">().name_, "second");
  EXPECT_EQ(sim.service<"first">().version_, "4.5.6");
  EXPECT_EQ(sim.service<"first">().hash_, sil::SystemTraits<ContextSystem>::catalogue::hash);
  EXPECT_EQ(sim.service<"first">().factor_, 1) << "no config given: the class's default Config";
  EXPECT_EQ(sim.service<"second">().factor_, 3);
}

TEST(System, WithoutFrameworkServicesOnlyTheSystemsOwnRun) {
  static_assert(sil::core::Simulation<ContextSystem>::instance_names() ==
                std::array<std::string_view, 2>{"first", "second"});
  // The framework's messages stay in the catalogue: a harness can always ask.
  using Catalogue = sil::SystemTraits<ContextSystem>::catalogue;
  static_assert(Catalogue::contains<sil::ipc::RevisionRequest> && Catalogue::contains<Ping>);
  static_assert(Catalogue::index_of<Ping> == 3, "the framework's messages come first");
  SUCCEED();
}

}  // namespace
