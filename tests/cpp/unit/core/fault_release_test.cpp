// Delayed copies at a tick boundary: what came from the harness is released
// before what the services published, each in due order, so that a replay
// (which delivers recorded injections before the boundary's delayed service
// messages) sees the order the live run had.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <variant>
#include <vector>

#include "sil/core/faults.hpp"
#include "sil/ipc/sim_clock.hpp"
#include "test_system.hpp"
#include "thermal/messages.hpp"

namespace {

using sil::core::FaultKind;

struct Release {
  std::uint8_t tag;
  bool injected;
  bool operator==(const Release&) const = default;
};

TEST(FaultRelease, AtOneBoundaryTheHarnesssDelayedCopiesComeBeforeTheServicesInDueOrder) {
  const auto& catalogue = sil::test::catalogue_info();
  sil::ipc::SimClock clock(100);  // 10 ms ticks
  sil::core::FaultSet faults(catalogue, clock);
  for (const auto id : {thermal::PlantTemperature::id, thermal::SetPoint::id}) {
    const auto added = faults.add({.kind = FaultKind::delay, .msg_id = static_cast<std::uint16_t>(id),
                                   .delay_ns = id == thermal::PlantTemperature::id ? 15'000'000U : 5'000'000U});
    ASSERT_TRUE(std::holds_alternative<std::uint32_t>(added));
  }
  std::size_t reading_index = 0, setpoint_index = 0;
  for (std::size_t i = 0; i < catalogue.messages.size(); ++i) {
    if (catalogue.messages[i].id == thermal::PlantTemperature::id) reading_index = i;
    if (catalogue.messages[i].id == thermal::SetPoint::id) setpoint_index = i;
  }
  // Each copy's first byte tags it.
  auto publish = [&](std::size_t index, std::uint8_t tag, bool injected) {
    std::vector<std::byte> payload(catalogue.messages[index].size, std::byte{0});
    payload[0] = std::byte{tag};
    EXPECT_EQ(faults.apply(index, payload, injected), 0U) << "held";
  };
  publish(reading_index, 1, false);  // t = 0: due 15 ms
  clock.advance();
  publish(setpoint_index, 2, true);  // t = 10 ms: due 15 ms, published after the reading
  publish(reading_index, 3, false);  // due 25 ms
  publish(setpoint_index, 4, true);  // due 15 ms
  clock.advance();                   // t = 20 ms: everything due at 15 ms
  std::vector<Release> released;
  faults.release_due([&](const sil::core::FaultSet::Released& copy) {
    released.push_back({static_cast<std::uint8_t>(copy.payload[0]), copy.injected});
  });
  EXPECT_EQ(released, (std::vector<Release>{{2, true}, {4, true}, {1, false}}));
  EXPECT_EQ(faults.delayed(), 1U) << "the reading due at 25 ms waits";
  clock.advance();
  released.clear();
  faults.release_due([&](const sil::core::FaultSet::Released& copy) {
    released.push_back({static_cast<std::uint8_t>(copy.payload[0]), copy.injected});
  });
  EXPECT_EQ(released, (std::vector<Release>{{3, false}}));
}

}  // namespace
