// Simulated time is derived from the tick count, never accumulated.
#include <gtest/gtest.h>

#include <cstdint>

#include "sil/ipc/sim_clock.hpp"

namespace sil::services {
namespace {

constexpr std::uint64_t kSecond = 1'000'000'000;

static_assert([] {
  SimClock clock(4);
  clock.advance();
  return clock.now_ns() == 250'000'000;
}(), "usable in constant expressions");

TEST(SimClock, StartsAtTickZeroAndTimeZero) {
  const SimClock clock(100);
  EXPECT_EQ(clock.tick(), 0U);
  EXPECT_EQ(clock.now_ns(), 0U);
  EXPECT_EQ(clock.rate_hz(), 100U);
  EXPECT_EQ(clock.period_ns(), 10'000'000U);
}

TEST(SimClock, NeverDriftsWhenThePeriodIsNotAWholeNumberOfNanoseconds) {
  // 1/3 s is 333'333'333.3 ns: adding the period up would lose 1 ns a second.
  SimClock clock(3);
  for (int i = 0; i < 3; ++i) clock.advance();
  EXPECT_EQ(clock.now_ns(), kSecond);
  for (int i = 0; i < 3 * 999; ++i) clock.advance();
  EXPECT_EQ(clock.now_ns(), 1000 * kSecond);
  EXPECT_EQ(clock.tick(), 3000U);
}

TEST(SimClock, EveryWholeSecondIsExactAtAnOddRate) {
  SimClock clock(7919);  // prime: no period divides a second evenly
  for (std::uint64_t second = 1; second <= 5; ++second) {
    for (int i = 0; i < 7919; ++i) clock.advance();
    EXPECT_EQ(clock.now_ns(), second * kSecond);
  }
}

TEST(SimClock, TimeBetweenTicksNeverExceedsOnePeriodRoundedUp) {
  SimClock clock(3);
  std::uint64_t previous = clock.now_ns();
  for (int i = 0; i < 30; ++i) {
    clock.advance();
    const std::uint64_t step = clock.now_ns() - previous;
    EXPECT_TRUE(step == clock.period_ns() || step == clock.period_ns() + 1) << step;
    previous = clock.now_ns();
  }
}

TEST(SimClock, TimeDoesNotOverflowLongAfterTickTimesOneBillionWould) {
  const SimClock clock(100'000);
  // 2e10 ticks * 1e9 exceeds 2^64; at 100 kHz that is 200,000 s of sim time.
  const std::uint64_t tick = 20'000'000'000ULL;
  EXPECT_EQ(clock.ns_at(tick), 200'000ULL * SimClock::kNanosPerSecond);
  EXPECT_EQ(clock.ns_at(tick + 1) - clock.ns_at(tick), 10'000U);
}

TEST(SimClock, NsAtAgreesWithNowAfterAdvancing) {
  SimClock clock(7);
  for (int i = 0; i < 20; ++i) clock.advance();
  EXPECT_EQ(clock.now_ns(), clock.ns_at(20));
}

TEST(SimClock, ARateOfZeroIsTreatedAsOneHertz) {
  SimClock clock(0);
  EXPECT_EQ(clock.rate_hz(), 1U);
  clock.advance();
  EXPECT_EQ(clock.now_ns(), kSecond);
}

TEST(SimClock, HandlesTheHighestRateTheCliAccepts) {
  SimClock clock(100'000);
  EXPECT_EQ(clock.period_ns(), 10'000U);
  for (int i = 0; i < 100'000; ++i) clock.advance();
  EXPECT_EQ(clock.now_ns(), kSecond);
}

}  // namespace
}  // namespace sil::services
