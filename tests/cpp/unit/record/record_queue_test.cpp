// The channel between the simulation thread and the recording's writer:
// order, wrap-around with entries of every size, drops when full, and a
// producer and a consumer thread racing (run under TSan too).
#include "sil/record/record_queue.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

namespace sil::record {
namespace {

// Payload i: i % 200 bytes, each derived from i, so sizes vary across the
// wrap point and every byte is checkable.
std::vector<std::byte> payload_for(std::uint64_t i) {
  std::vector<std::byte> bytes(i % 200);
  for (std::size_t k = 0; k < bytes.size(); ++k) bytes[k] = static_cast<std::byte>((i * 31 + k) & 0xFF);
  return bytes;
}

EntryMeta meta_for(std::uint64_t i) {
  EntryMeta meta;
  meta.sim_time_ns = i * 10;
  meta.wall_ns = i * 7;
  meta.msg_id = static_cast<std::uint16_t>(i);
  meta.direction = static_cast<MessageDirection>(i % 4);
  return meta;
}

// Drains everything waiting; checks each entry is `next` (and advances it).
std::size_t drain_checking(RecordQueue& queue, std::uint64_t& next) {
  return queue.drain(
      [&](const EntryMeta& meta, std::span<const std::byte> payload) {
        const EntryMeta expected = meta_for(next);
        const auto bytes = payload_for(next);
        EXPECT_EQ(meta.sim_time_ns, expected.sim_time_ns);
        EXPECT_EQ(meta.wall_ns, expected.wall_ns);
        EXPECT_EQ(meta.msg_id, expected.msg_id);
        EXPECT_EQ(meta.direction, expected.direction);
        ASSERT_EQ(meta.size, bytes.size());
        EXPECT_TRUE(std::equal(payload.begin(), payload.end(), bytes.begin(), bytes.end())) << "entry " << next;
        ++next;
      },
      SIZE_MAX);
}

TEST(RecordQueue, ReturnsEntriesInOrderAcrossManyWrapArounds) {
  RecordQueue queue(4096);
  std::uint64_t pushed = 0;
  std::uint64_t next = 0;
  for (int round = 0; round < 500; ++round) {
    for (int k = 0; k < 5; ++k, ++pushed) ASSERT_TRUE(queue.try_push(meta_for(pushed), payload_for(pushed)));
    drain_checking(queue, next);
  }
  EXPECT_EQ(next, pushed);
  EXPECT_EQ(queue.dropped(), 0u);
  EXPECT_TRUE(queue.empty());
}

TEST(RecordQueue, DropsAndCountsWhenFullThenAcceptsAgainOnceDrained) {
  RecordQueue queue(4096);
  const std::vector<std::byte> payload(100);
  std::size_t accepted = 0;
  while (queue.try_push({}, payload)) ++accepted;
  EXPECT_EQ(accepted, 4096u / 128u);  // 24 + 100 bytes round up to 128
  EXPECT_FALSE(queue.try_push({}, payload));
  EXPECT_EQ(queue.dropped(), 2u);
  EXPECT_EQ(queue.drain([](const EntryMeta&, std::span<const std::byte>) {}, SIZE_MAX), accepted);
  EXPECT_TRUE(queue.try_push({}, payload));
  EXPECT_EQ(queue.dropped(), 2u);
}

TEST(RecordQueue, DrainsAtMostTheAskedNumberOfEntries) {
  RecordQueue queue(4096);
  for (std::uint64_t i = 0; i < 10; ++i) ASSERT_TRUE(queue.try_push(meta_for(i), payload_for(i)));
  std::uint64_t next = 0;
  EXPECT_EQ(queue.drain([&](const EntryMeta& meta, std::span<const std::byte>) { EXPECT_EQ(meta.msg_id, next++); }, 4),
            4u);
  EXPECT_EQ(drain_checking(queue, next), 6u);
}

TEST(RecordQueue, RefusesAPayloadLargerThanAQuarterOfTheRing) {
  RecordQueue queue(4096);
  EXPECT_FALSE(queue.try_push({}, std::vector<std::byte>(queue.max_payload() + 1)));
  EXPECT_TRUE(queue.try_push({}, std::vector<std::byte>(queue.max_payload())));
  EXPECT_EQ(queue.dropped(), 1u);
}

TEST(RecordQueue, RejectsACapacityThatIsNotAPowerOfTwo) {
  EXPECT_THROW(RecordQueue(5000), std::invalid_argument);
  EXPECT_THROW(RecordQueue(2048), std::invalid_argument);
}

TEST(RecordQueue, HandsEveryEntryFromOneThreadToAnotherIntact) {
  constexpr std::uint64_t kEntries = 100'000;
  RecordQueue queue(1 << 14);  // small: the producer keeps meeting a full ring
  std::vector<std::vector<std::byte>> payloads;
  for (std::uint64_t i = 0; i < 400; ++i) payloads.push_back(payload_for(i));
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < kEntries; ++i) {
      // A full ring here means waiting, so every entry gets through.
      while (!queue.try_push(meta_for(i), payloads[i % 400])) std::this_thread::yield();
    }
  });
  std::uint64_t next = 0;
  bool ok = true;
  while (next < kEntries) {  // drains to the end even after a mismatch, so the producer finishes
    const std::size_t drained = queue.drain(
        [&](const EntryMeta& meta, std::span<const std::byte> payload) {
          const auto& expected = payloads[next % 400];
          ok = ok && meta.sim_time_ns == next * 10 && meta.size == expected.size() &&
               std::equal(payload.begin(), payload.end(), expected.begin(), expected.end());
          ++next;
        },
        SIZE_MAX);
    if (drained == 0) std::this_thread::yield();  // two threads may share one core
  }
  producer.join();
  EXPECT_TRUE(ok) << "entry " << next - 1 << " arrived damaged";
  EXPECT_EQ(next, kEntries);
}

}  // namespace
}  // namespace sil::record
