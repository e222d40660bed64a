// The allow list and the peer rules through a real UdpBridge on loopback:
// senders on 127.0.0.2 and 127.0.0.3 (all of 127.0.0.0/8 is loopback), the
// rx thread running, the test thread as the simulation thread.
#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stop_token>
#include <string>
#include <thread>
#include <variant>
#include <vector>


#include "loopback_client.hpp"
#include "sil/ipc/datagram.hpp"
#include "sil/bridge/hello.hpp"
#include "test_system.hpp"
#include "sil/ipc/message_bus.hpp"
#include "sil/ipc/messages.hpp"
#include "sil_control.pb.h"
#include "wait.hpp"

namespace sil::bridge {
namespace {

using namespace std::chrono_literals;
using test::LoopbackClient;
using test::wait_until;

struct Requests {
  std::vector<std::uint32_t> ids;
  void on(const ipc::RevisionRequest& msg) { ids.push_back(msg.request_id); }
};

std::vector<std::byte> request(std::uint32_t id) {
  const auto bytes = encode_datagram(ipc::RevisionRequest{.request_id = id});
  return {bytes.begin(), bytes.end()};
}

std::vector<std::byte> control(const control::Request& message) {
  const std::string body = message.SerializeAsString();
  std::vector<std::byte> datagram{std::byte{0xF0}, std::byte{0xFF}};
  for (const char c : body) datagram.push_back(static_cast<std::byte>(c));
  return datagram;
}

// A control request's bytes after the 2-byte header, as the receiving thread sees them.
std::vector<std::byte> body(const control::Request& message) {
  const std::vector<std::byte> datagram = control(message);
  return std::vector<std::byte>(datagram.begin() + 2, datagram.end());
}

control::Request hello_request(std::uint32_t sequence, std::uint32_t hash) {
  control::Request message;
  message.set_sequence(sequence);
  message.mutable_hello()->set_catalogue_hash(hash);
  return message;
}

Cidr range(const char* text) { return std::get<Cidr>(parse_cidr(text)); }

// A bridge with the given rules and its rx thread.
class Bridge {
 public:
  explicit Bridge(const BridgeConfig& config) : bridge(config) {}

  // Sends a RevisionRequest from client and waits until the bridge has
  // judged it (accepted or dropped) and delivered it if it was accepted.
  void send(const LoopbackClient& client, std::uint32_t id) {
    const std::uint64_t judged_before = judged();
    const std::uint64_t accepted_before = accepted();
    client.send_to(bridge.port(), request(id));
    deliver([&] {
      return judged() > judged_before &&
             (accepted() == accepted_before || (!requests.ids.empty() && requests.ids.back() == id));
    });
  }
  // Sends a control request and waits until it has been delivered.
  void send_control(const LoopbackClient& client, const control::Request& message) {
    const std::size_t before = controls;
    client.send_to(bridge.port(), control(message));
    deliver([&] { return controls > before; });
  }

  template <class Done>
  void deliver(Done done) {
    ASSERT_TRUE(wait_until([&] {
      bridge.deliver_pending(bus, [this](const ControlFrame&) { ++controls; });
      return done();
    })) << "the bridge never handled the datagram";
  }

  std::uint64_t accepted() const { return bridge.stats().rx[static_cast<std::size_t>(Verdict::accepted)]; }
  std::uint64_t judged() const {
    const BridgeStats s = bridge.stats();
    std::uint64_t n = s.rx_not_allowed;
    for (const auto count : s.rx) n += count;
    return n;
  }

  sil::test::Bridge bridge;
  Requests requests;
  std::size_t controls = 0;  // control frames delivered
  ipc::MessageBus<sil::test::Catalogue, Requests, sil::test::Bridge> bus{requests, bridge};
  std::jthread rx{[this](std::stop_token stop) { bridge.run_rx(stop); }};  // last: joined first
};

BridgeConfig allowing(std::initializer_list<const char*> ranges) {
  BridgeConfig config;
  for (const char* text : ranges) config.allow.add(range(text));
  return config;
}

TEST(AllowList, SendersOutsideEveryRangeAreDroppedCountedAndNeverThePeer) {
  Bridge b(allowing({"127.0.0.2/32", "10.0.0.0/8"}));
  const LoopbackClient outsider("127.0.0.3");
  const LoopbackClient insider("127.0.0.2");

  b.send(outsider, 1);
  b.send(outsider, 2);
  outsider.send_to(b.bridge.port(), std::vector<std::byte>{std::byte{1}});  // invalid too: still not_allowed
  ASSERT_TRUE(wait_until([&] { return b.bridge.stats().rx_not_allowed == 3; }));
  BridgeStats stats = b.bridge.stats();
  EXPECT_EQ(stats.rx[static_cast<std::size_t>(Verdict::too_short)], 0U) << "the bytes were never looked at";
  EXPECT_EQ(stats.rx[static_cast<std::size_t>(Verdict::accepted)], 0U);
  EXPECT_EQ(stats.rx_dropped(), 3U);
  EXPECT_EQ(b.bridge.active_peer(), 0U);
  EXPECT_TRUE(b.requests.ids.empty());

  b.send(insider, 3);
  EXPECT_EQ(b.requests.ids, (std::vector<std::uint32_t>{3}));
  EXPECT_EQ(b.bridge.active_peer(), insider.packed_address());

  b.send(outsider, 4);  // cannot take the peer over either
  stats = b.bridge.stats();
  EXPECT_EQ(stats.rx_not_allowed, 4U);
  EXPECT_EQ(stats.peer_changes, 1U);
  EXPECT_EQ(b.bridge.active_peer(), insider.packed_address());
  EXPECT_EQ(b.requests.ids, (std::vector<std::uint32_t>{3}));
}

TEST(PeerRules, LastSenderHandsTheTelemetryToEachNewSender) {
  Bridge b({});
  const LoopbackClient first("127.0.0.2");
  const LoopbackClient second("127.0.0.3");
  b.send(first, 1);
  b.send(second, 2);
  EXPECT_EQ(b.bridge.active_peer(), second.packed_address());
  b.send(first, 3);
  EXPECT_EQ(b.bridge.active_peer(), first.packed_address());
  EXPECT_EQ(b.bridge.stats().peer_changes, 3U);
  EXPECT_EQ(b.bridge.stats().rx_not_peer, 0U);
}

TEST(PeerRules, StickyDeliversAnotherSendersMessagesButKeepsThePeer) {
  Bridge b({.peer = {.policy = PeerPolicy::sticky, .takeover_after = 1h}});
  const LoopbackClient peer("127.0.0.2");
  const LoopbackClient other("127.0.0.3");
  b.send(peer, 1);
  b.send(other, 2);
  b.send(other, 3);
  EXPECT_EQ(b.requests.ids, (std::vector<std::uint32_t>{1, 2, 3})) << "the other sender may still inject";
  EXPECT_EQ(b.bridge.active_peer(), peer.packed_address());
  const BridgeStats stats = b.bridge.stats();
  EXPECT_EQ(stats.peer_changes, 1U);
  EXPECT_EQ(stats.rx_not_peer, 2U);

  b.bus.publish(ipc::Heartbeat{.sequence = 9, .tick = 0, .sim_time_ns = 0});
  EXPECT_TRUE(peer.receive());
  EXPECT_FALSE(other.receive_now()) << "telemetry stays with the sticky peer";
}

TEST(PeerRules, StickyHandsOverToAHelloAtOnce) {
  Bridge b({.peer = {.policy = PeerPolicy::sticky, .takeover_after = 1h}});
  const LoopbackClient peer("127.0.0.2");
  const LoopbackClient other("127.0.0.3");
  b.send(peer, 1);
  control::Request stats_request;
  stats_request.set_sequence(1);
  stats_request.mutable_get_stats();
  b.send_control(other, stats_request);  // a control request that is not a Hello: no takeover
  EXPECT_EQ(b.bridge.active_peer(), peer.packed_address());

  b.send_control(other, hello_request(2, sil::test::kHash));
  EXPECT_EQ(b.bridge.active_peer(), other.packed_address());
  EXPECT_EQ(b.bridge.stats().peer_changes, 2U);
}

TEST(PeerRules, AQueryIsAnsweredButNeverTakesThePeerUnderEitherPolicy) {
  for (const auto policy : {PeerPolicy::last_sender, PeerPolicy::sticky}) {
    Bridge b({.peer = {.policy = policy}});
    const LoopbackClient observer("127.0.0.3");
    const LoopbackClient harness("127.0.0.2");
    control::Request stats_request;
    stats_request.set_sequence(1);
    stats_request.mutable_get_stats();
    b.send_control(observer, stats_request);
    EXPECT_EQ(b.bridge.active_peer(), 0U) << "a query makes no peer even when there is none";

    b.send(harness, 1);
    control::Request catalogue_request;
    catalogue_request.set_sequence(2);
    catalogue_request.mutable_get_catalogue();
    b.send_control(observer, stats_request);
    b.send_control(observer, catalogue_request);
    EXPECT_EQ(b.bridge.active_peer(), harness.packed_address()) << to_string(policy);
    const BridgeStats stats = b.bridge.stats();
    EXPECT_EQ(stats.peer_changes, 1U);
    EXPECT_EQ(stats.rx_not_peer, 0U) << "an observer is not a sender kept out";

    b.bus.publish(ipc::Heartbeat{.sequence = 9, .tick = 0, .sim_time_ns = 0});
    EXPECT_TRUE(harness.receive()) << "telemetry stays with the harness";
    EXPECT_FALSE(observer.receive_now());
  }
}

TEST(PeerRules, StickyHandsOverOnceThePeerHasBeenSilentLongEnough) {
  Bridge b({.peer = {.policy = PeerPolicy::sticky, .takeover_after = 20ms}});
  const LoopbackClient peer("127.0.0.2");
  const LoopbackClient other("127.0.0.3");
  b.send(peer, 1);
  // The other sender keeps trying; it gets the peer once the first has been
  // quiet for the takeover time, and never before (the unit tests pin the
  // exact boundary with injected time).
  std::uint32_t id = 100;
  ASSERT_TRUE(wait_until([&] {
    b.send(other, id++);
    return b.bridge.active_peer() == other.packed_address();
  }));
  EXPECT_EQ(b.bridge.stats().peer_changes, 2U);
}

TEST(PeerRules, AnIdlePeerStopsReceivingTelemetryAndItIsCountedAsNoPeer) {
  Bridge b({.peer = {.idle_timeout = 20ms}});
  const LoopbackClient peer("127.0.0.2");
  b.send(peer, 1);
  ASSERT_EQ(b.bridge.active_peer(), peer.packed_address());
  // Nobody sends: the rx thread wakes for the deadline by itself.
  ASSERT_TRUE(wait_until([&] { return b.bridge.stats().peer_expiries == 1; }));
  EXPECT_EQ(b.bridge.active_peer(), 0U);

  b.bus.publish(ipc::Heartbeat{.sequence = 1, .tick = 0, .sim_time_ns = 0});
  EXPECT_EQ(b.bridge.stats().tx_no_peer, 1U);
  EXPECT_FALSE(peer.receive_now());

  b.send(peer, 2);  // talking again makes it the peer again
  EXPECT_EQ(b.bridge.active_peer(), peer.packed_address());
  EXPECT_EQ(b.bridge.stats().peer_changes, 2U);
}

// The receiving thread recognises a Hello and a query by their bytes; the
// protobuf library's own encoding of every kind of request is the reference.
TEST(ClaimOfRequest, MatchesTheProtobufEncodingOfEveryRequest) {
  for (const std::uint32_t sequence : {0U, 1U, 127U, 128U, 300U, 0xFFFFFFFFU}) {
    for (const std::uint32_t hash : {0U, 1U, sil::test::kHash, 0xFFFFFFFFU}) {
      EXPECT_EQ(claim_of_request(body(hello_request(sequence, hash))), PeerClaim::hello) << sequence << " " << hash;
    }
    control::Request request;
    request.set_sequence(sequence);
    const auto claim = [&request] { return claim_of_request(body(request)); };
    request.mutable_get_stats();
    EXPECT_EQ(claim(), PeerClaim::query) << sequence;
    request.mutable_get_catalogue();
    EXPECT_EQ(claim(), PeerClaim::query) << sequence;
    request.mutable_list_faults();
    EXPECT_EQ(claim(), PeerClaim::query) << sequence;
    request.mutable_get_params();
    EXPECT_EQ(claim(), PeerClaim::query) << sequence;
    for (const char* name : {"thermostat.hysteresis_c", "plant.ambient_c"}) request.mutable_get_params()->add_names(name);
    EXPECT_EQ(claim(), PeerClaim::query) << sequence;
    request.mutable_get_params()->add_names(std::string(200, 'x'));  // a two-byte length
    EXPECT_EQ(claim(), PeerClaim::query) << sequence;
    request.mutable_set_params();
    EXPECT_EQ(claim(), PeerClaim::ordinary);
    request.mutable_add_fault()->set_kind("drop");
    EXPECT_EQ(claim(), PeerClaim::ordinary);
    request.mutable_remove_fault();
    EXPECT_EQ(claim(), PeerClaim::ordinary);
    request.mutable_advance()->set_ticks(5);
    EXPECT_EQ(claim(), PeerClaim::ordinary);
    request.mutable_pause();
    EXPECT_EQ(claim(), PeerClaim::ordinary);
    request.mutable_resume();
    EXPECT_EQ(claim(), PeerClaim::ordinary);
    request.mutable_set_speed()->set_speed(2.0);
    EXPECT_EQ(claim(), PeerClaim::ordinary);
  }
}

}  // namespace
}  // namespace sil::bridge
