// The active-peer word shared by the rx and simulation threads.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>

#include "sil/bridge/peer.hpp"

namespace sil::bridge {
namespace {

static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "the peer is one lock-free word on this target");

sockaddr_in address_of(const char* dotted, std::uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  ::inet_pton(AF_INET, dotted, &address.sin_addr);
  address.sin_port = htons(port);
  return address;
}

TEST(PeerPacking, RoundTripsAddressAndPortInNetworkOrder) {
  for (const auto& original : {address_of("127.0.0.1", 1), address_of("192.168.17.42", 54321),
                               address_of("255.255.255.255", 65535), address_of("0.0.0.0", 9)}) {
    const sockaddr_in unpacked = unpack_peer(pack_peer(original));
    EXPECT_EQ(unpacked.sin_family, AF_INET);
    EXPECT_EQ(unpacked.sin_addr.s_addr, original.sin_addr.s_addr);
    EXPECT_EQ(unpacked.sin_port, original.sin_port);
  }
}

TEST(PeerPacking, PutsTheAddressInTheLowWordAndThePortAboveIt) {
  const sockaddr_in address = address_of("10.1.2.3", 0x1234);
  const std::uint64_t packed = pack_peer(address);
  EXPECT_EQ(static_cast<std::uint32_t>(packed), address.sin_addr.s_addr);
  EXPECT_EQ(static_cast<std::uint16_t>(packed >> 32U), htons(0x1234));
  EXPECT_EQ(packed >> 48U, 0U);
  // Network order: the first octet of the address is the lowest byte in memory.
  const auto* first_octet = reinterpret_cast<const std::uint8_t*>(&address.sin_addr.s_addr);
  EXPECT_EQ(*first_octet, 10);
  EXPECT_EQ(pack_peer(address.sin_addr.s_addr, address.sin_port), packed);
}

TEST(PeerPacking, NoSenderPacksToZero) {
  // Every real sender has a non-zero port, so zero is free to mean "no peer".
  EXPECT_NE(pack_peer(address_of("0.0.0.0", 1)), 0U);
  EXPECT_EQ(pack_peer(0, 0), 0U);
}

TEST(ActivePeer, StartsWithNoPeer) {
  const ActivePeer peer;
  EXPECT_EQ(peer.load(), 0U);
}

TEST(ActivePeer, UpdateReportsAChangeOnlyWhenTheSenderDiffers) {
  ActivePeer peer;
  const std::uint64_t a = pack_peer(address_of("127.0.0.1", 4000));
  const std::uint64_t b = pack_peer(address_of("127.0.0.1", 4001));

  EXPECT_TRUE(peer.update(a));
  EXPECT_EQ(peer.load(), a);
  EXPECT_FALSE(peer.update(a));
  EXPECT_EQ(peer.load(), a);
  EXPECT_TRUE(peer.update(b));
  EXPECT_EQ(peer.load(), b);
  EXPECT_TRUE(peer.update(a));
  EXPECT_EQ(peer.load(), a);
}

TEST(ActivePeer, UpdatingToZeroWhenEmptyIsNoChange) {
  ActivePeer peer;
  EXPECT_FALSE(peer.update(0));
  EXPECT_EQ(peer.load(), 0U);
}

}  // namespace
}  // namespace sil::bridge
