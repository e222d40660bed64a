// The UDP bridge on 127.0.0.1, driven as sil-sim drives it: run_rx on its
// own thread, the test thread as the simulation thread owning the bus, and
// a plain socket as the harness.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <fstream>
#include <cstdint>
#include <initializer_list>
#include <stop_token>
#include <string>
#include <system_error>
#include <thread>
#include <variant>
#include <vector>


#include "loopback_client.hpp"
#include "sil/ipc/datagram.hpp"
#include "test_system.hpp"
#include "sil/ipc/message_bus.hpp"
#include "sil/ipc/messages.hpp"
#include "wait.hpp"

namespace sil::bridge {
namespace {

using test::deliver_until;
using test::LoopbackClient;
using test::wait_until;
using test::decode_datagram;
using test::DecodeResult;
using UdpBridge = sil::test::Bridge;

struct Recorder {
  std::vector<std::uint32_t> request_ids;
  std::vector<std::uint32_t> heartbeat_sequences;
  void on(const ipc::RevisionRequest& msg) { request_ids.push_back(msg.request_id); }
  void on(const ipc::Heartbeat& msg) { heartbeat_sequences.push_back(msg.sequence); }
};

// Stands in for RevisionService, so these tests need only the bridge.
struct Answerer {
  void on(const ipc::RevisionRequest& request, ipc::Publisher auto& bus) {
    ipc::RevisionResponse response{};
    response.request_id = request.request_id;
    response.git_revision.assign("test");
    bus.publish(response);
  }
};

template <class T>
std::vector<std::byte> datagram(const T& payload) {
  const auto bytes = encode_datagram(payload);
  return {bytes.begin(), bytes.end()};
}

std::vector<std::byte> raw(std::initializer_list<std::uint8_t> bytes) {
  std::vector<std::byte> out;
  for (const auto b : bytes) out.push_back(static_cast<std::byte>(b));
  return out;
}

std::uint64_t rx(const BridgeStats& stats, Verdict verdict) { return stats.rx[static_cast<std::size_t>(verdict)]; }

class UdpBridgeTest : public ::testing::Test {
 protected:
  // Sends a valid request from client and delivers until the bus has it.
  void request_from(const LoopbackClient& client, std::uint32_t request_id) {
    const std::size_t before = recorder_.request_ids.size();
    client.send_to(bridge_.port(), datagram(ipc::RevisionRequest{.request_id = request_id}));
    ASSERT_TRUE(deliver_until(bridge_, bus_, [&] { return recorder_.request_ids.size() > before; }))
        << "request " << request_id << " never reached the bus";
    EXPECT_EQ(recorder_.request_ids.back(), request_id);
  }

  // The RevisionResponse client receives next; fails the test if it is anything else.
  std::uint32_t response_id_at(const LoopbackClient& client) {
    const auto bytes = client.receive();
    if (!bytes) {
      ADD_FAILURE() << "no datagram arrived";
      return 0;
    }
    const DecodeResult result = decode_datagram(*bytes);
    if (!result.accepted() || !std::holds_alternative<ipc::RevisionResponse>(result.message)) {
      ADD_FAILURE() << "not a RevisionResponse: " << bytes->size() << " bytes, " << to_string(result.verdict);
      return 0;
    }
    return std::get<ipc::RevisionResponse>(result.message).request_id;
  }

  UdpBridge bridge_{{}};
  Recorder recorder_;
  Answerer answerer_;
  ipc::MessageBus<sil::test::Catalogue, Recorder, Answerer, UdpBridge> bus_{recorder_, answerer_, bridge_};
  // Last member: stops and joins before the bridge goes away.
  std::jthread rx_{[this](std::stop_token stop) { bridge_.run_rx(stop); }};
};

TEST_F(UdpBridgeTest, BindsTheLoopbackAddressOnAKernelChosenPort) {
  EXPECT_NE(bridge_.port(), 0);
  EXPECT_EQ(bridge_.local_endpoint().port(), bridge_.port());
  EXPECT_EQ(bridge_.local_endpoint().address().to_string(), "127.0.0.1");
}

TEST_F(UdpBridgeTest, BeforeAnyValidDatagramPublishingSendsNothingAndCountsNoPeer) {
  const LoopbackClient client;
  client.send_to(bridge_.port(), raw({0x01}));  // invalid: must not make the client a peer
  ASSERT_TRUE(wait_until([&] { return rx(bridge_.stats(), Verdict::too_short) == 1; }));

  bus_.publish(ipc::Heartbeat{.sequence = 1, .tick = 0, .sim_time_ns = 0});
  bus_.publish(ipc::RevisionResponse{});

  const BridgeStats stats = bridge_.stats();
  EXPECT_EQ(bridge_.active_peer(), 0U);
  EXPECT_EQ(stats.tx_no_peer, 2U);
  EXPECT_EQ(stats.tx_sent, 0U);
  EXPECT_EQ(stats.peer_changes, 0U);
  EXPECT_FALSE(client.receive_now());
}

TEST_F(UdpBridgeTest, AValidRequestReachesTheBusAndMakesTheSenderThePeer) {
  const LoopbackClient client;
  request_from(client, 42);

  const BridgeStats stats = bridge_.stats();
  EXPECT_EQ(recorder_.request_ids, (std::vector<std::uint32_t>{42}));
  EXPECT_EQ(bridge_.active_peer(), client.packed_address());
  EXPECT_EQ(stats.peer_changes, 1U);
  EXPECT_EQ(rx(stats, Verdict::accepted), 1U);
  EXPECT_EQ(stats.rx_dropped(), 0U);
}

TEST_F(UdpBridgeTest, AnAnswerOnTheBusGoesToTheClientAsOneDatagramAndTheRequestIsNotEchoed) {
  const LoopbackClient client;
  request_from(client, 0xA1B2C3D4U);

  const auto bytes = client.receive();
  ASSERT_TRUE(bytes);
  ASSERT_EQ(bytes->size(), 67U);
  EXPECT_EQ((*bytes)[0], std::byte{0xD1});
  EXPECT_EQ((*bytes)[1], std::byte{0x07});
  // request_id, little-endian, right after the header.
  EXPECT_EQ((*bytes)[2], std::byte{0xD4});
  EXPECT_EQ((*bytes)[3], std::byte{0xC3});
  EXPECT_EQ((*bytes)[4], std::byte{0xB2});
  EXPECT_EQ((*bytes)[5], std::byte{0xA1});

  // The injected request went past the bridge on the bus too, but only the
  // answer was sent.
  EXPECT_FALSE(client.receive_now());
  EXPECT_EQ(bridge_.stats().tx_sent, 1U);
  EXPECT_EQ(bridge_.stats().tx_no_peer, 0U);
}

TEST_F(UdpBridgeTest, InvalidDatagramsAreCountedByVerdictAndDoNotChangeThePeer) {
  const LoopbackClient peer;
  const LoopbackClient stranger;
  request_from(peer, 1);
  ASSERT_EQ(response_id_at(peer), 1U);

  std::vector<std::byte> too_long = raw({0xD0, 0x07});
  too_long.resize(100, std::byte{0x55});  // larger than any message: the kernel cuts it
  const std::vector<std::vector<std::byte>> invalid{
      {},                                        // too_short
      raw({0xD0}),                               // too_short
      raw({0x00, 0x00}),                         // unknown_id
      raw({0xFF, 0xFF, 1, 2, 3, 4}),             // unknown_id
      raw({0xD0, 0x07, 1, 2, 3}),                // wrong_size
      raw({0xD2, 0x07, 1, 2, 3, 4}),             // wrong_size
      too_long,                                  // truncated
  };
  for (const auto& bytes : invalid) stranger.send_to(bridge_.port(), bytes);

  ASSERT_TRUE(wait_until([&] { return bridge_.stats().rx_dropped() == invalid.size(); }))
      << "dropped " << bridge_.stats().rx_dropped();
  const BridgeStats stats = bridge_.stats();
  EXPECT_EQ(rx(stats, Verdict::too_short), 2U);
  EXPECT_EQ(rx(stats, Verdict::unknown_id), 2U);
  EXPECT_EQ(rx(stats, Verdict::wrong_size), 2U);
  EXPECT_EQ(rx(stats, Verdict::truncated), 1U);
  EXPECT_EQ(rx(stats, Verdict::accepted), 1U);
  EXPECT_EQ(stats.rx_inbox_full, 0U);
  EXPECT_EQ(bridge_.active_peer(), peer.packed_address());
  EXPECT_EQ(stats.peer_changes, 1U);

  // Nothing invalid reached the inbox: the next thing on the bus is the
  // peer's next request, and its answer still goes to the peer.
  request_from(peer, 2);
  EXPECT_EQ(recorder_.request_ids, (std::vector<std::uint32_t>{1, 2}));
  EXPECT_EQ(response_id_at(peer), 2U);
  EXPECT_FALSE(stranger.receive_now());
}

TEST_F(UdpBridgeTest, ASecondClientBecomesThePeerAndReceivesTheTelemetryFromThenOn) {
  const LoopbackClient first;
  const LoopbackClient second;
  request_from(first, 10);
  ASSERT_EQ(response_id_at(first), 10U);

  request_from(second, 20);
  EXPECT_EQ(response_id_at(second), 20U);
  EXPECT_EQ(bridge_.active_peer(), second.packed_address());
  EXPECT_EQ(bridge_.stats().peer_changes, 2U);

  bus_.publish(ipc::Heartbeat{.sequence = 7, .tick = 70, .sim_time_ns = 700});
  const auto telemetry = second.receive();
  ASSERT_TRUE(telemetry);
  const DecodeResult result = decode_datagram(*telemetry);
  ASSERT_TRUE(result.accepted());
  ASSERT_TRUE(std::holds_alternative<ipc::Heartbeat>(result.message));
  EXPECT_EQ(std::get<ipc::Heartbeat>(result.message).sequence, 7U);
  EXPECT_EQ(std::get<ipc::Heartbeat>(result.message).tick, 70U);
  EXPECT_FALSE(first.receive_now()) << "the old peer gets nothing more";
}

TEST_F(UdpBridgeTest, MessagesAcceptedWhileTheInboxIsFullAreCountedAndDropped) {
  const LoopbackClient client;
  constexpr std::uint32_t kKept = UdpBridge::kInboxCapacity - UdpBridge::kControlReserve;
  constexpr std::uint32_t kSent = kKept + 10;
  // One at a time, each counted before the next is sent, so the kernel's
  // socket buffer never overflows and every datagram reaches the bridge.
  for (std::uint32_t i = 0; i < kSent; ++i) {
    client.send_to(bridge_.port(), datagram(ipc::RevisionRequest{.request_id = i}));
    ASSERT_TRUE(wait_until([&] { return rx(bridge_.stats(), Verdict::accepted) == i + 1; })) << i;
  }
  ASSERT_TRUE(wait_until([&] { return bridge_.stats().rx_inbox_full == 10; }));

  EXPECT_TRUE(deliver_until(bridge_, bus_, [&] { return recorder_.request_ids.size() >= kSent - 10; }));
  EXPECT_EQ(recorder_.request_ids.size(), kKept) << "the last kControlReserve slots are for control requests";
  for (std::uint32_t i = 0; i < recorder_.request_ids.size(); ++i) {
    ASSERT_EQ(recorder_.request_ids[i], i) << "the first ones are kept, in order";
  }
  EXPECT_EQ(bridge_.stats().rx_dropped(), 10U);
}

TEST_F(UdpBridgeTest, AControlRequestStillGetsInWhenMessagesHaveFilledTheInbox) {
  const LoopbackClient client;
  constexpr std::uint32_t kKept = UdpBridge::kInboxCapacity - UdpBridge::kControlReserve;
  for (std::uint32_t i = 0; i < kKept + 5; ++i) {
    client.send_to(bridge_.port(), datagram(ipc::RevisionRequest{.request_id = i}));
    ASSERT_TRUE(wait_until([&] { return rx(bridge_.stats(), Verdict::accepted) == i + 1; })) << i;
  }
  ASSERT_TRUE(wait_until([&] { return bridge_.stats().rx_inbox_full == 5; }));
  // A control request (its body is not parsed here), then more messages: the
  // request takes a reserved slot, the messages are still refused.
  client.send_to(bridge_.port(), raw({0xF0, 0xFF, 0x08, 0x2A, 0x3A, 0x00}));
  client.send_to(bridge_.port(), datagram(ipc::RevisionRequest{.request_id = 99'999}));
  ASSERT_TRUE(wait_until([&] { return bridge_.stats().rx_inbox_full == 6; }));

  std::vector<std::size_t> control_at;  // position among delivered items
  std::size_t delivered = 0;
  for (int i = 0; i < 1000 && delivered < kKept + 1; ++i) {
    delivered += bridge_.deliver_inbound(bus_, [&](const ControlFrame& frame) {
      control_at.push_back(recorder_.request_ids.size());
      EXPECT_EQ(frame.size, 4U);
    });
  }
  EXPECT_EQ(recorder_.request_ids.size(), kKept);
  ASSERT_EQ(control_at.size(), 1U) << "the control request was dropped with the flood";
  EXPECT_EQ(control_at[0], kKept) << "it keeps its place after the messages before it";
}

TEST_F(UdpBridgeTest, TheRxThreadEndsWhenStopIsRequested) {
  const LoopbackClient client;
  request_from(client, 1);  // the loop is running and has handled traffic

  rx_.request_stop();
  rx_.join();  // a stuck loop hangs here, and the test's timeout reports it
  EXPECT_FALSE(rx_.joinable());
}

TEST(UdpBridge, RunRxReturnsAtOnceWhenStopWasRequestedBeforehand) {
  UdpBridge bridge({});
  std::stop_source stop;
  stop.request_stop();
  bridge.run_rx(stop.get_token());
  SUCCEED() << "returned";
}

void expect_invalid_bind_address(const std::string& address) {
  try {
    UdpBridge bridge({.bind_address = address, .port = 0});
    ADD_FAILURE() << "'" << address << "' was accepted";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::invalid_argument) << address;
    EXPECT_NE(std::string(e.what()).find("'" + address + "'"), std::string::npos) << e.what();
  }
}

// The kernel reports twice what it grants (the doubling is its bookkeeping
// overhead), capped by net.core.rmem_max.
int rmem_max() {
  std::ifstream file("/proc/sys/net/core/rmem_max");
  int value = 0;
  file >> value;
  return value;
}

TEST(UdpBridge, AsksForTheReceiveBufferItIsConfiguredWith) {
  const int cap = rmem_max();
  const UdpBridge small({.receive_buffer_bytes = 64 * 1024});
  EXPECT_EQ(small.receive_buffer_bytes(), 2 * 64 * 1024);
  const UdpBridge large({});
  const int want = BridgeConfig{}.receive_buffer_bytes;
  EXPECT_EQ(large.receive_buffer_bytes(), 2 * std::min(want, cap > 0 ? cap : want));
}

TEST(UdpBridge, RefusesABindAddressThatIsNotIpv4) {
  expect_invalid_bind_address("::1");
  expect_invalid_bind_address("nonsense");
  expect_invalid_bind_address("");
  expect_invalid_bind_address("1.2.3");
}

TEST(UdpBridge, RefusesAPortThatIsAlreadyBound) {
  const UdpBridge first({});
  try {
    UdpBridge second({.bind_address = "127.0.0.1", .port = first.port()});
    ADD_FAILURE() << "bound port " << first.port() << " twice";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), std::errc::address_in_use) << e.what();
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(first.port())), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace sil::bridge
