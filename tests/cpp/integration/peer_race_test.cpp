// Two senders flap the active peer while the simulation thread sends
// telemetry as fast as it can (fast clock). Run under ThreadSanitizer by
// `make sanitize`. The peer is one 64-bit word, so a send goes to one
// sender's address and port or the other's, never to a mixture: sniffing
// sockets sit on the two mixed addresses (A's IP with B's port, B's IP with
// A's port) and must receive nothing.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <system_error>
#include <vector>

#include "loopback_client.hpp"
#include "running_host.hpp"
#include "sil/ipc/datagram.hpp"
#include "sil/ipc/messages.hpp"
#include "wait.hpp"

namespace sil::core {
namespace {

using test::LoopbackClient;

// A sender on `address` plus a sniffer on `other_address` with the sender's
// port. Retries with a new port (bounded) if that port is taken there.
struct SenderAndSniffer {
  std::unique_ptr<LoopbackClient> sender;
  std::unique_ptr<LoopbackClient> sniffer;
};

std::optional<SenderAndSniffer> bind_pair(const char* address, const char* other_address) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto sender = std::make_unique<LoopbackClient>(address);
    try {
      auto sniffer = std::make_unique<LoopbackClient>(other_address, sender->port());
      return SenderAndSniffer{std::move(sender), std::move(sniffer)};
    } catch (const std::system_error&) {
      // that port is in use on the other address; try another
    }
  }
  return std::nullopt;
}

std::size_t drain(const LoopbackClient& client) {
  std::vector<std::byte> buffer(2048);
  std::size_t count = 0;
  for (int i = 0; i < 1'000'000 && client.receive_into(buffer, std::chrono::milliseconds{0}); ++i) ++count;
  return count;
}

TEST(PeerRace, FlappingSendersNeverGetADatagramAtAMixedAddress) {
  auto a = bind_pair("127.0.0.2", "127.0.0.3");  // a.sniffer: 127.0.0.3 with A's port
  auto b = bind_pair("127.0.0.3", "127.0.0.2");  // b.sniffer: 127.0.0.2 with B's port
  ASSERT_TRUE(a && b) << "no free port pair on 127.0.0.2/127.0.0.3";
  ASSERT_NE(a->sender->port(), b->sender->port());

  test::Running<> run(1000, {.clock = ClockMode::fast});
  constexpr std::uint32_t kFlaps = 10000;
  std::size_t received_a = 0;
  std::size_t received_b = 0;
  for (std::uint32_t i = 0; i < kFlaps; ++i) {
    const LoopbackClient& sender = (i % 2 == 0) ? *a->sender : *b->sender;
    const auto before = run.bridge.stats().peer_changes;
    sender.send_to(run.bridge.port(), bridge::encode_datagram(ipc::RevisionRequest{.request_id = i}));
    // Each datagram changes the peer; waiting for it keeps the kernel from
    // dropping any, so every flap really happens while the sim sends.
    ASSERT_TRUE(test::wait_until([&] { return run.bridge.stats().peer_changes > before; })) << i;
    // Keep the senders' buffers from filling, so telemetry keeps arriving.
    if (i % 64 == 0) {
      received_a += drain(*a->sender);
      received_b += drain(*b->sender);
    }
  }
  const std::uint64_t sent_while_flapping = run.bridge.stats().tx_sent;
  run.stop();
  received_a += drain(*a->sender);
  received_b += drain(*b->sender);

  EXPECT_EQ(run.bridge.stats().peer_changes, kFlaps);
  EXPECT_GT(received_a, 0U);
  EXPECT_GT(received_b, 0U);
  EXPECT_GT(sent_while_flapping, std::uint64_t{kFlaps}) << "the sim barely sent while the peer flapped";
  EXPECT_EQ(drain(*a->sniffer), 0U) << "a datagram reached B's IP with A's port";
  EXPECT_EQ(drain(*b->sniffer), 0U) << "a datagram reached A's IP with B's port";
}

}  // namespace
}  // namespace sil::core
