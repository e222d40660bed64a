// EgressBatch against real loopback sockets: what the receiver sees must be
// exactly what per-message sending would have produced, one message per
// datagram and in order, whether the batch used GSO runs, plain sendmmsg
// entries, or failed.
#include "sil/bridge/egress_batch.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "loopback_client.hpp"
#include "unbundle.hpp"
#include "sil/bridge/bundle.hpp"
#include "sil/ipc/datagram.hpp"
#include "sil/bridge/peer.hpp"
#include "sil/ipc/messages.hpp"
#include "test_system.hpp"

namespace sil::bridge {
namespace {

using Bytes = std::vector<std::byte>;
using ipc::kHeader;
// The smallest bundle limit for the test system's largest datagram.
constexpr std::size_t kMinBundleBytes = min_bundle_bytes(sil::test::kMaxDatagramSize);

// A sending socket of our own, closed at the end.
struct Sender {
  Sender() : fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}
  ~Sender() { ::close(fd); }
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;
  int fd;
};

template <class T>
Bytes datagram(const T& payload) {
  const auto bytes = encode_datagram(payload);
  return {bytes.begin(), bytes.end()};
}

template <class T>
void add(EgressBatch& batch, std::uint64_t to, const T& payload, std::uint16_t counter) {
  ASSERT_TRUE(batch.add(to, kHeader<T>, &payload, sizeof(T), counter));
}

ipc::Heartbeat heartbeat(std::uint32_t sequence) { return {.sequence = sequence, .tick = sequence, .sim_time_ns = 7}; }

ipc::RevisionResponse response(std::uint32_t id) {
  ipc::RevisionResponse r{};
  r.request_id = id;
  r.git_revision.assign("batched");
  return r;
}

// Runs of equal-sized heartbeats (GSO material) broken by responses of
// another size. Returns the datagrams the receiver must see, in order.
std::vector<Bytes> fill_mixed(EgressBatch& batch, std::uint64_t to) {
  std::vector<Bytes> expected;
  std::uint32_t seq = 0;
  for (int run : {5, 1, 3}) {
    for (int i = 0; i < run; ++i) {
      add(batch, to, heartbeat(seq), 0);
      expected.push_back(datagram(heartbeat(seq++)));
    }
    add(batch, to, response(seq), 1);
    expected.push_back(datagram(response(seq)));
  }
  return expected;
}

std::vector<Bytes> receive_all(const test::LoopbackClient& client, std::size_t count) {
  std::vector<Bytes> got;
  while (got.size() < count) {
    auto bytes = client.receive();
    if (!bytes) break;
    got.push_back(std::move(*bytes));
  }
  return got;
}

struct Counts {
  std::array<int, 2> sent{};
  int failed = 0;
  int last_error = 0;
};

EgressBatch::Outcome flush(EgressBatch& batch, int fd, Counts& counts) {
  return batch.flush(
      fd, [&](std::uint16_t counter) { ++counts.sent.at(counter); },
      [&](std::uint16_t, int error) {
        ++counts.failed;
        counts.last_error = error;
      });
}

TEST(EgressBatch, NothingIsSentUntilFlushThenEveryMessageArrivesAsItsOwnDatagramInOrder) {
  test::LoopbackClient receiver;
  Sender sender;
  EgressBatch batch;
  const auto expected = fill_mixed(batch, receiver.packed_address());
  EXPECT_FALSE(receiver.receive_now()) << "a datagram left before flush";

  Counts counts;
  const auto outcome = flush(batch, sender.fd, counts);

  EXPECT_EQ(receive_all(receiver, expected.size()), expected);
  EXPECT_FALSE(receiver.receive_now()) << "more datagrams than messages";
  EXPECT_EQ(outcome.sent, expected.size());
  EXPECT_EQ(outcome.failed, 0U);
  EXPECT_EQ(counts.sent[0], 9);  // heartbeats
  EXPECT_EQ(counts.sent[1], 3);  // responses
  EXPECT_TRUE(batch.empty());
  EXPECT_TRUE(batch.gso_enabled());
}

TEST(EgressBatch, WithoutGsoTheReceiverSeesTheSameDatagrams) {
  test::LoopbackClient receiver;
  Sender sender;
  EgressBatch batch;
  batch.disable_gso();
  const auto expected = fill_mixed(batch, receiver.packed_address());
  Counts counts;
  EXPECT_EQ(flush(batch, sender.fd, counts).sent, expected.size());
  EXPECT_EQ(receive_all(receiver, expected.size()), expected);
}

TEST(EgressBatch, WhenTheKernelRefusesGsoItFallsBackAndLosesNothing) {
  test::LoopbackClient receiver;
  Sender sender;
  // Linux refuses UDP GSO (EINVAL) on a socket that sends without checksums.
  const int one = 1;
  ASSERT_EQ(::setsockopt(sender.fd, SOL_SOCKET, SO_NO_CHECK, &one, sizeof one), 0);
  EgressBatch batch;
  const auto expected = fill_mixed(batch, receiver.packed_address());
  Counts counts;
  const auto outcome = flush(batch, sender.fd, counts);
  EXPECT_FALSE(batch.gso_enabled());
  EXPECT_EQ(outcome.sent, expected.size());
  EXPECT_EQ(outcome.failed, 0U);
  EXPECT_EQ(receive_all(receiver, expected.size()), expected);
}

TEST(EgressBatch, DatagramsToDifferentPeersAreNeverMergedIntoOneRun) {
  test::LoopbackClient first;
  test::LoopbackClient second;
  Sender sender;
  EgressBatch batch;
  add(batch, first.packed_address(), heartbeat(0), 0);
  add(batch, second.packed_address(), heartbeat(1), 0);
  add(batch, first.packed_address(), heartbeat(2), 0);
  Counts counts;
  EXPECT_EQ(flush(batch, sender.fd, counts).sent, 3U);
  EXPECT_EQ(receive_all(first, 2), (std::vector<Bytes>{datagram(heartbeat(0)), datagram(heartbeat(2))}));
  EXPECT_EQ(receive_all(second, 1), (std::vector<Bytes>{datagram(heartbeat(1))}));
  EXPECT_FALSE(first.receive_now());
}

TEST(EgressBatch, AddRefusesWhenFullAndTheBatchTakesMoreAfterAFlush) {
  test::LoopbackClient receiver;
  Sender sender;
  EgressBatch batch;
  for (std::uint32_t i = 0; i < EgressBatch::kMaxDatagrams; ++i) add(batch, receiver.packed_address(), heartbeat(i), 0);
  const auto extra = heartbeat(999);
  EXPECT_FALSE(batch.add(receiver.packed_address(), kHeader<ipc::Heartbeat>, &extra, sizeof extra, 0));
  Counts counts;
  EXPECT_EQ(flush(batch, sender.fd, counts).sent, EgressBatch::kMaxDatagrams);
  EXPECT_TRUE(batch.add(receiver.packed_address(), kHeader<ipc::Heartbeat>, &extra, sizeof extra, 0));
}

TEST(EgressBatch, ASendThatFailsCountsEveryDatagramAndLeavesTheBatchEmpty) {
  test::LoopbackClient receiver;
  EgressBatch batch;
  const auto expected = fill_mixed(batch, receiver.packed_address());
  Counts counts;
  const auto outcome = flush(batch, /*fd=*/-1, counts);  // EBADF for every entry
  EXPECT_EQ(outcome.sent, 0U);
  EXPECT_EQ(outcome.failed, expected.size());
  EXPECT_EQ(counts.failed, static_cast<int>(expected.size()));
  EXPECT_EQ(counts.last_error, EBADF);
  EXPECT_TRUE(batch.empty());
  EXPECT_TRUE(batch.gso_enabled()) << "a bad descriptor is not a reason to give up GSO";
}

// Everything the receiver has: the first datagram within the generous
// deadline, then whatever else is queued (loopback queues before sendmmsg returns).
std::vector<Bytes> receive_everything(const test::LoopbackClient& client) {
  std::vector<Bytes> got;
  for (auto bytes = client.receive(); bytes; bytes = client.receive_now()) got.push_back(std::move(*bytes));
  return got;
}

TEST(EgressBatchBundles, ABundlingPeerGetsTheSameMessagesInOrderInOneDatagram) {
  test::LoopbackClient receiver;
  Sender sender;
  EgressBatch batch;
  batch.bundle_for(receiver.packed_address(), kMaxBundleBytes);
  const auto expected = fill_mixed(batch, receiver.packed_address());

  Counts counts;
  const auto outcome = flush(batch, sender.fd, counts);

  const auto got = receive_everything(receiver);
  ASSERT_EQ(got.size(), 1U);
  EXPECT_TRUE(is_bundle(got[0]));
  EXPECT_EQ(test::unbundle(got), expected);
  EXPECT_EQ(outcome.sent, expected.size()) << "sent counts messages, not datagrams";
  EXPECT_EQ(counts.sent[0], 9);
  EXPECT_EQ(counts.sent[1], 3);
}

TEST(EgressBatchBundles, NoBundleIsLargerThanThePeersLimit) {
  test::LoopbackClient receiver;
  Sender sender;
  for (const bool gso : {true, false}) {
    EgressBatch batch;
    if (!gso) batch.disable_gso();
    constexpr std::size_t kLimit = 100;  // four heartbeats' items and a header
    batch.bundle_for(receiver.packed_address(), kLimit);
    std::vector<Bytes> expected;
    for (std::uint32_t i = 0; i < 50; ++i) {
      add(batch, receiver.packed_address(), heartbeat(i), 0);
      expected.push_back(datagram(heartbeat(i)));
    }
    Counts counts;
    EXPECT_EQ(flush(batch, sender.fd, counts).sent, 50U);
    const auto got = receive_everything(receiver);
    for (const auto& bundle : got) {
      EXPECT_TRUE(is_bundle(bundle));
      EXPECT_LE(bundle.size(), kLimit);
    }
    EXPECT_EQ(got.size(), 13U) << "four heartbeats a bundle";
    EXPECT_EQ(test::unbundle(got), expected) << (gso ? "GSO runs of equal bundles" : "no GSO");
  }
}

TEST(EgressBatchBundles, OnlyThePeerThatAskedGetsBundles) {
  test::LoopbackClient asked;
  test::LoopbackClient other;
  Sender sender;
  EgressBatch batch;
  batch.bundle_for(asked.packed_address(), kMaxBundleBytes);
  add(batch, asked.packed_address(), heartbeat(0), 0);
  add(batch, asked.packed_address(), heartbeat(1), 0);
  add(batch, other.packed_address(), heartbeat(2), 0);
  add(batch, other.packed_address(), heartbeat(3), 0);
  add(batch, asked.packed_address(), heartbeat(4), 0);
  Counts counts;
  EXPECT_EQ(flush(batch, sender.fd, counts).sent, 5U);

  const auto to_asked = receive_everything(asked);
  ASSERT_EQ(to_asked.size(), 2U) << "a datagram to someone else closes the open bundle";
  EXPECT_TRUE(is_bundle(to_asked[0]) && is_bundle(to_asked[1]));
  EXPECT_EQ(test::unbundle(to_asked), (std::vector<Bytes>{datagram(heartbeat(0)), datagram(heartbeat(1)),
                                                          datagram(heartbeat(4))}));
  EXPECT_EQ(receive_everything(other), (std::vector<Bytes>{datagram(heartbeat(2)), datagram(heartbeat(3))}));
}

TEST(EgressBatchBundles, ADatagramTooLargeForABundleGoesAloneInItsPlace) {
  test::LoopbackClient receiver;
  Sender sender;
  EgressBatch batch;
  batch.bundle_for(receiver.packed_address(), kMinBundleBytes);
  const std::array<std::uint8_t, kHeaderSize> reply_head = header_bytes(ipc::MsgId::ControlReply);
  const std::vector<std::uint8_t> reply(kMinBundleBytes, 0x5A);  // a long control reply
  add(batch, receiver.packed_address(), heartbeat(0), 0);
  ASSERT_TRUE(batch.add(receiver.packed_address(), reply_head, reply.data(), reply.size(), 1));
  add(batch, receiver.packed_address(), heartbeat(1), 0);
  Counts counts;
  EXPECT_EQ(flush(batch, sender.fd, counts).sent, 3U);

  const auto got = receive_everything(receiver);
  ASSERT_EQ(got.size(), 3U);
  EXPECT_TRUE(is_bundle(got[0]));
  EXPECT_FALSE(is_bundle(got[1]));
  EXPECT_EQ(got[1].size(), kHeaderSize + reply.size());
  EXPECT_TRUE(is_bundle(got[2]));
  EXPECT_EQ(test::unbundle({got[0]}), std::vector<Bytes>{datagram(heartbeat(0))});
  EXPECT_EQ(test::unbundle({got[2]}), std::vector<Bytes>{datagram(heartbeat(1))});
}

TEST(EgressBatchBundles, ALimitOfZeroTurnsBundlesOff) {
  test::LoopbackClient receiver;
  Sender sender;
  EgressBatch batch;
  batch.bundle_for(receiver.packed_address(), kMaxBundleBytes);
  batch.bundle_for(receiver.packed_address(), 0);
  const auto expected = fill_mixed(batch, receiver.packed_address());
  Counts counts;
  flush(batch, sender.fd, counts);
  EXPECT_EQ(receive_everything(receiver), expected);
}

TEST(EgressBatchBundles, AFailedBundleCountsEveryMessageInIt) {
  test::LoopbackClient receiver;
  EgressBatch batch;
  batch.bundle_for(receiver.packed_address(), kMaxBundleBytes);
  const auto expected = fill_mixed(batch, receiver.packed_address());
  Counts counts;
  const auto outcome = flush(batch, /*fd=*/-1, counts);
  EXPECT_EQ(outcome.failed, expected.size());
  EXPECT_EQ(counts.failed, static_cast<int>(expected.size()));
}

TEST(EgressBatchBundles, TheMessageLimitHoldsForBundledMessagesToo) {
  test::LoopbackClient receiver;
  Sender sender;
  EgressBatch batch;
  batch.bundle_for(receiver.packed_address(), kMaxBundleBytes);
  for (std::uint32_t i = 0; i < EgressBatch::kMaxDatagrams; ++i) add(batch, receiver.packed_address(), heartbeat(i), 0);
  const auto extra = heartbeat(999);
  EXPECT_FALSE(batch.add(receiver.packed_address(), kHeader<ipc::Heartbeat>, &extra, sizeof extra, 0));
  Counts counts;
  EXPECT_EQ(flush(batch, sender.fd, counts).sent, EgressBatch::kMaxDatagrams);
  EXPECT_EQ(test::unbundle(receive_everything(receiver)).size(), EgressBatch::kMaxDatagrams);
}

}  // namespace
}  // namespace sil::bridge
