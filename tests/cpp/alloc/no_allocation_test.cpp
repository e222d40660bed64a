// The bus and the bridge's simulation-side path never allocate: global
// operator new is replaced by a counting one (counting_new.cpp), and the
// count must not move while messages flow. Nothing between the two readings
// of the count may allocate, so no gtest assertion runs in between.
#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <new>
#include <stop_token>
#include <thread>


#include "counting_new.hpp"
#include "loopback_client.hpp"
#include "sil/ipc/datagram.hpp"
#include "test_system.hpp"
#include "sil/ipc/message_bus.hpp"
#include "sil/ipc/messages.hpp"
#include "wait.hpp"

namespace sil::ipc {
namespace {

using test::allocation_count;

struct Answerer {
  std::uint64_t requests = 0;
  void on(const RevisionRequest& request, Publisher auto& bus) {
    ++requests;
    RevisionResponse response{};
    response.request_id = request.request_id;
    response.git_revision.assign("0123456789abcdef0123456789abcdef01234567");
    bus.publish(response);
  }
};

struct Counter {
  std::uint64_t responses = 0;
  std::uint64_t heartbeats = 0;
  void on(const RevisionResponse&) { ++responses; }
  void on(const Heartbeat&) { ++heartbeats; }
};

struct Everything {
  std::uint64_t seen = 0;
  std::uint64_t checksum = 0;
  template <Message T>
  void on(const T& msg) {
    ++seen;
    checksum += static_cast<std::uint64_t>(reinterpret_cast<const unsigned char*>(&msg)[0]);
  }
};

TEST(CountingNew, CountsEveryCallOfGlobalOperatorNew) {
  // Without this, a replacement that is never linked in would let every
  // other test here pass vacuously.
  const std::size_t before = allocation_count();
  void* volatile single = ::operator new(24);
  void* volatile array = ::operator new[](24);
  void* volatile aligned = ::operator new(24, std::align_val_t{64});
  const std::size_t after = allocation_count();
  ::operator delete(single);
  ::operator delete[](array);
  ::operator delete(aligned, std::align_val_t{64});
  EXPECT_EQ(after - before, 3U);
}

TEST(MessageBusAllocations, PublishingThroughManySubscribersAllocatesNothing) {
  Answerer answerer;
  Counter counter;
  Everything first;
  Everything last;
  MessageBus<FrameworkCatalogue, Everything, Answerer, Counter, Everything> bus(first, answerer, counter, last);
  constexpr std::uint32_t kMessages = 10'000;

  const std::size_t before = allocation_count();
  for (std::uint32_t i = 0; i < kMessages; ++i) {
    bus.publish(RevisionRequest{.request_id = i});  // answered by a nested publish
    bus.publish<MsgId::Heartbeat>(Heartbeat{.sequence = i, .tick = i, .sim_time_ns = i * 10ULL});
  }
  const std::size_t after = allocation_count();

  EXPECT_EQ(after, before);
  EXPECT_EQ(answerer.requests, kMessages);
  EXPECT_EQ(counter.responses, kMessages);
  EXPECT_EQ(counter.heartbeats, kMessages);
  EXPECT_EQ(first.seen, 3U * kMessages);
  EXPECT_EQ(last.seen, 3U * kMessages);
}

// Round trips through a bridge with the given egress; the counting starts
// after the first one.
void expect_round_trips_allocate_nothing(bridge::Egress egress) {
  sil::test::Bridge udp({.egress = egress});
  Answerer answerer;
  MessageBus<sil::test::Catalogue, Answerer, sil::test::Bridge> bus(answerer, udp);
  test::LoopbackClient client;
  std::jthread rx([&udp](std::stop_token stop) { udp.run_rx(stop); });

  std::array<std::byte, 128> reply{};
  std::size_t replies = 0;
  std::size_t good_replies = 0;
  auto round_trip = [&](std::uint32_t request_id) {
    const auto datagram = bridge::encode_datagram(RevisionRequest{.request_id = request_id});
    client.send_to(udp.port(), datagram);
    const std::uint64_t answered = answerer.requests;
    test::deliver_until(udp, bus, [&] { return answerer.requests > answered; });
    udp.flush();  // batched egress: the end of the "tick"; a no-op per message
    const auto length = client.receive_into(reply, test::kGenerousDeadline);
    if (length) ++replies;
    if (length == bridge::kHeaderSize + sizeof(RevisionResponse) && reply[0] == std::byte{0xD1} &&
        reply[2] == static_cast<std::byte>(request_id & 0xFFU)) {
      ++good_replies;
    }
  };

  // Both threads go through every path once before counting, so lazy
  // first-use setup (thread start, socket buffers) is not counted.
  round_trip(0);
  constexpr std::uint32_t kRoundTrips = 500;

  const std::size_t before = allocation_count();
  for (std::uint32_t i = 1; i <= kRoundTrips; ++i) round_trip(i);
  bus.publish(Heartbeat{.sequence = 1, .tick = 2, .sim_time_ns = 3});  // telemetry to the peer
  udp.flush();
  const std::size_t after = allocation_count();

  EXPECT_EQ(after, before);
  EXPECT_EQ(replies, kRoundTrips + 1);
  EXPECT_EQ(good_replies, kRoundTrips + 1);
  EXPECT_EQ(udp.stats().tx_sent, kRoundTrips + 2);
}

TEST(BridgeAllocations, ReceivingDeliveringAndSendingAllocateNothingOnEitherThread) {
  expect_round_trips_allocate_nothing(bridge::Egress::per_message);
}

TEST(BridgeAllocations, BatchedEgressAllocatesNothingAfterConstruction) {
  expect_round_trips_allocate_nothing(bridge::Egress::batched);
}

}  // namespace
}  // namespace sil::ipc
