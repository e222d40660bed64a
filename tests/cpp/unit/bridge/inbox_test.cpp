// The SPSC ring between the rx thread and the simulation thread.
#include <poll.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "sil/bridge/inbox.hpp"

namespace sil::bridge {
namespace {

bool readable_now(int fd) {
  pollfd fds{fd, POLLIN, 0};
  return ::poll(&fds, 1, 0) == 1 && (fds.revents & POLLIN) != 0;
}

template <class Inbox>
std::vector<int> drain_all(Inbox& inbox) {
  std::vector<int> values;
  inbox.drain([&](const int& value) { values.push_back(value); });
  return values;
}

TEST(SpscInbox, DrainsInPushOrder) {
  SpscInbox<int, 8> inbox;
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(inbox.try_push(i * 10));
  inbox.publish();
  EXPECT_EQ(drain_all(inbox), (std::vector<int>{10, 20, 30, 40, 50}));
}

TEST(SpscInbox, FreeBeyondCountsTheClaimedSlotAsFreeAndSeesWhatTheConsumerFreed) {
  SpscInbox<int, 8> inbox;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(inbox.try_push(i));
  ASSERT_NE(inbox.claim(), nullptr);
  EXPECT_TRUE(inbox.free_beyond(2)) << "3 free, the claimed one included";
  EXPECT_FALSE(inbox.free_beyond(3));
  inbox.publish();
  EXPECT_EQ(drain_all(inbox).size(), 5U);
  EXPECT_TRUE(inbox.free_beyond(7)) << "the consumer freed them; the producer must look again";
  EXPECT_FALSE(inbox.free_beyond(8));
}

TEST(SpscInbox, KeepsOrderAcrossTheWrapOfTheRing) {
  SpscInbox<int, 4> inbox;
  std::vector<int> received;
  int next = 0;
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(inbox.try_push(next++));
    inbox.publish();
    inbox.drain([&](const int& value) { received.push_back(value); });
  }
  ASSERT_EQ(received.size(), 15U);
  for (int i = 0; i < 15; ++i) EXPECT_EQ(received[static_cast<std::size_t>(i)], i);
}

TEST(SpscInbox, RefusesAPushWhenFullAndAcceptsAgainAfterADrain) {
  SpscInbox<int, 4> inbox;
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(inbox.try_push(i));
  EXPECT_FALSE(inbox.try_push(99));
  inbox.publish();
  EXPECT_FALSE(inbox.try_push(99)) << "publishing does not free slots";
  EXPECT_EQ(drain_all(inbox), (std::vector<int>{0, 1, 2, 3})) << "the refused value was not stored";
  EXPECT_TRUE(inbox.try_push(4));
  inbox.publish();
  EXPECT_EQ(drain_all(inbox), (std::vector<int>{4}));
}

TEST(SpscInbox, DrainReturnsHowManyItPassedOn) {
  SpscInbox<int, 8> inbox;
  EXPECT_EQ(inbox.drain([](const int&) {}), 0U);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(inbox.try_push(i));
  inbox.publish();
  int calls = 0;
  EXPECT_EQ(inbox.drain([&](const int&) { ++calls; }), 3U);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(inbox.drain([](const int&) {}), 0U);
}

TEST(SpscInbox, PushedValuesStayInvisibleUntilPublished) {
  SpscInbox<int, 8> inbox;
  ASSERT_TRUE(inbox.try_push(1));
  EXPECT_EQ(inbox.drain([](const int&) {}), 0U);
  inbox.publish();
  EXPECT_EQ(drain_all(inbox), (std::vector<int>{1}));
}

TEST(SpscInbox, ReadyFdBecomesReadableOnPublishAndClearsOnDrain) {
  SpscInbox<int, 8> inbox;
  EXPECT_FALSE(readable_now(inbox.ready_fd()));
  ASSERT_TRUE(inbox.try_push(1));
  EXPECT_FALSE(readable_now(inbox.ready_fd())) << "a push alone does not wake the consumer";
  inbox.publish();
  EXPECT_TRUE(readable_now(inbox.ready_fd()));
  inbox.drain([](const int&) {});
  EXPECT_FALSE(readable_now(inbox.ready_fd()));
}

TEST(SpscInbox, PublishingNothingNewDoesNotWakeTheConsumer) {
  SpscInbox<int, 8> inbox;
  inbox.publish();
  EXPECT_FALSE(readable_now(inbox.ready_fd()));
  ASSERT_TRUE(inbox.try_push(1));
  inbox.publish();
  inbox.drain([](const int&) {});
  inbox.publish();
  EXPECT_FALSE(readable_now(inbox.ready_fd()));
}

TEST(SpscInbox, HandsTheConsumerAReferenceIntoTheSlot) {
  SpscInbox<int, 4> inbox;
  ASSERT_TRUE(inbox.try_push(7));
  ASSERT_TRUE(inbox.try_push(8));
  inbox.publish();
  std::vector<const int*> addresses;
  inbox.drain([&](const int& value) { addresses.push_back(&value); });
  ASSERT_EQ(addresses.size(), 2U);
  EXPECT_EQ(addresses[1], addresses[0] + 1) << "consecutive slots of one array, not copies";
}

TEST(SpscInbox, ClaimHandsOutTheSlotTheConsumerLaterReads) {
  SpscInbox<int, 4> inbox;
  int* slot = inbox.claim();
  ASSERT_NE(slot, nullptr);
  *slot = 42;
  inbox.commit();
  inbox.publish();
  const int* seen = nullptr;
  inbox.drain([&](const int& value) { seen = &value; });
  EXPECT_EQ(seen, slot) << "filled in place, read in place";
  EXPECT_EQ(*seen, 42);
}

TEST(SpscInbox, AClaimWithoutCommitLeavesTheSlotFree) {
  SpscInbox<int, 4> inbox;
  int* first = inbox.claim();
  ASSERT_NE(first, nullptr);
  *first = 1;  // abandoned: no commit
  int* again = inbox.claim();
  EXPECT_EQ(again, first) << "the same slot is offered again";
  inbox.publish();
  EXPECT_EQ(inbox.drain([](const int&) {}), 0U);
  EXPECT_FALSE(readable_now(inbox.ready_fd()));
}

TEST(SpscInbox, ClaimReturnsNullWhenFullAndASlotAgainAfterADrain) {
  SpscInbox<int, 4> inbox;
  for (int i = 0; i < 4; ++i) {
    int* slot = inbox.claim();
    ASSERT_NE(slot, nullptr) << i;
    *slot = i;
    inbox.commit();
  }
  EXPECT_EQ(inbox.claim(), nullptr);
  inbox.publish();
  EXPECT_EQ(drain_all(inbox), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_NE(inbox.claim(), nullptr);
}

TEST(SpscInbox, TwoThreadsPassAMillionSequenceNumbersInOrderWithNoneLost) {
  constexpr std::uint64_t kCount = 1'000'000;
  SpscInbox<std::uint64_t, 1024> inbox;
  std::atomic<bool> give_up{false};  // the consumer's deadline passed: stop producing
  std::uint64_t refused = 0;

  std::jthread producer([&] {
    for (std::uint64_t next = 0; next < kCount && !give_up.load(std::memory_order_relaxed);) {
      if (inbox.try_push(next)) {
        ++next;
        if (next % 64 == 0 || next == kCount) inbox.publish();
      } else {
        ++refused;
        inbox.publish();  // make sure the consumer sees what fills the ring
        std::this_thread::yield();
      }
    }
  });

  std::uint64_t expected = 0;
  std::uint64_t out_of_order = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (expected < kCount && std::chrono::steady_clock::now() < deadline) {
    pollfd fds{inbox.ready_fd(), POLLIN, 0};
    if (::poll(&fds, 1, 100) <= 0) continue;
    inbox.drain([&](const std::uint64_t& value) {
      if (value != expected) ++out_of_order;
      expected = value + 1;
    });
  }
  give_up.store(true, std::memory_order_relaxed);
  producer.join();

  EXPECT_EQ(expected, kCount);
  EXPECT_EQ(out_of_order, 0U);
  RecordProperty("refused_pushes", std::to_string(refused));
}

}  // namespace
}  // namespace sil::bridge
