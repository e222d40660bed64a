// The peer rules, with time as a parameter: nothing here sleeps.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cstdint>

#include "sil/bridge/peer_policy.hpp"
#include "sil/bridge/send_error.hpp"

namespace sil::bridge {
namespace {

using namespace std::chrono_literals;
using Outcome = PeerTracker::Outcome;

std::uint64_t sender(const char* dotted, std::uint16_t port) {
  in_addr address{};
  ::inet_pton(AF_INET, dotted, &address);
  return pack_peer(address.s_addr, htons(port));
}

const std::uint64_t kA = sender("127.0.0.2", 4000);
const std::uint64_t kB = sender("127.0.0.3", 5000);
const PeerTracker::Time kStart = PeerTracker::Time{} + 1h;  // any instant

TEST(PeerTracker, TheFirstSenderBecomesThePeerUnderEitherPolicy) {
  for (const auto policy : {PeerPolicy::last_sender, PeerPolicy::sticky}) {
    PeerTracker peers({.policy = policy});
    EXPECT_EQ(peers.load(), 0U);
    EXPECT_EQ(peers.observe(kA, false, kStart), Outcome::changed) << to_string(policy);
    EXPECT_EQ(peers.load(), kA);
    EXPECT_EQ(peers.observe(kA, false, kStart + 1ms), Outcome::same);
  }
}

TEST(PeerTracker, LastSenderHandsThePeerToWhoeverSentLast) {
  PeerTracker peers({.policy = PeerPolicy::last_sender});
  EXPECT_FALSE(peers.uses_time()) << "the plain rule needs no clock reads";
  EXPECT_EQ(peers.observe(kA, false, {}), Outcome::changed);
  EXPECT_EQ(peers.observe(kB, false, {}), Outcome::changed);
  EXPECT_EQ(peers.load(), kB);
  EXPECT_EQ(peers.observe(kA, false, {}), Outcome::changed);
  EXPECT_EQ(peers.load(), kA);
}

TEST(PeerTracker, StickyKeepsThePeerWhileItKeepsTalking) {
  PeerTracker peers({.policy = PeerPolicy::sticky, .takeover_after = 2s});
  EXPECT_TRUE(peers.uses_time());
  ASSERT_EQ(peers.observe(kA, false, kStart), Outcome::changed);
  // A talks every second; B never gets in, however often it tries.
  for (int second = 1; second <= 10; ++second) {
    const auto now = kStart + std::chrono::seconds(second);
    EXPECT_EQ(peers.observe(kB, false, now - 1ms), Outcome::refused) << second;
    EXPECT_EQ(peers.observe(kA, false, now), Outcome::same) << second;
  }
  EXPECT_EQ(peers.load(), kA);
}

TEST(PeerTracker, StickyHandsOverOnceThePeerHasBeenSilentForTheTakeoverTime) {
  PeerTracker peers({.policy = PeerPolicy::sticky, .takeover_after = 500ms});
  ASSERT_EQ(peers.observe(kA, false, kStart), Outcome::changed);
  EXPECT_EQ(peers.observe(kB, false, kStart + 499ms), Outcome::refused);
  EXPECT_EQ(peers.load(), kA);
  EXPECT_EQ(peers.observe(kB, false, kStart + 500ms), Outcome::changed);
  EXPECT_EQ(peers.load(), kB);
  // Now B is the sticky one: A coming back does not take it over at once.
  EXPECT_EQ(peers.observe(kA, false, kStart + 600ms), Outcome::refused);
  EXPECT_EQ(peers.load(), kB);
}

TEST(PeerTracker, StickyHandsOverAtOnceToAHello) {
  PeerTracker peers({.policy = PeerPolicy::sticky, .takeover_after = 1h});
  ASSERT_EQ(peers.observe(kA, false, kStart), Outcome::changed);
  EXPECT_EQ(peers.observe(kB, false, kStart + 1ms), Outcome::refused);
  EXPECT_EQ(peers.observe(kB, true, kStart + 2ms), Outcome::changed);
  EXPECT_EQ(peers.load(), kB);
}

TEST(PeerTracker, AnIdlePeerIsDroppedAfterTheTimeoutAndOnlyThen) {
  PeerTracker peers({.policy = PeerPolicy::last_sender, .idle_timeout = 3s});
  EXPECT_TRUE(peers.uses_time());
  PeerTracker::Time at;
  EXPECT_FALSE(peers.expiry(at)) << "no peer, nothing to expire";
  ASSERT_EQ(peers.observe(kA, false, kStart), Outcome::changed);
  ASSERT_TRUE(peers.expiry(at));
  EXPECT_EQ(at, kStart + 3s);

  EXPECT_FALSE(peers.expire(kStart + 3s));
  EXPECT_EQ(peers.observe(kA, false, kStart + 2s), Outcome::same);  // talking again pushes it back
  EXPECT_FALSE(peers.expire(kStart + 5s));
  EXPECT_TRUE(peers.expire(kStart + 5s + 1ns));
  EXPECT_EQ(peers.load(), 0U);
  EXPECT_FALSE(peers.expire(kStart + 10s)) << "dropped once";
  EXPECT_FALSE(peers.expiry(at));

  // The next sender, even the same one, becomes the peer again.
  EXPECT_EQ(peers.observe(kA, false, kStart + 11s), Outcome::changed);
  EXPECT_EQ(peers.load(), kA);
}

TEST(PeerTracker, WithoutAnIdleTimeoutAPeerIsNeverDropped) {
  PeerTracker peers({.policy = PeerPolicy::sticky});
  ASSERT_EQ(peers.observe(kA, false, kStart), Outcome::changed);
  PeerTracker::Time at;
  EXPECT_FALSE(peers.expiry(at));
  EXPECT_FALSE(peers.expire(kStart + 24h));
  EXPECT_EQ(peers.load(), kA);
}

TEST(PeerTracker, StickyAfterAnIdleDropLetsANewSenderInAtOnce) {
  PeerTracker peers({.policy = PeerPolicy::sticky, .takeover_after = 1h, .idle_timeout = 1s});
  ASSERT_EQ(peers.observe(kA, false, kStart), Outcome::changed);
  ASSERT_TRUE(peers.expire(kStart + 2s));
  EXPECT_EQ(peers.observe(kB, false, kStart + 2s), Outcome::changed);
}

TEST(PeerTracker, AQueryFromThePeerKeepsItAliveAndFromAnyoneElseChangesNothing) {
  PeerTracker peers({.policy = PeerPolicy::last_sender, .idle_timeout = 3s});
  peers.seen(kB, kStart);
  EXPECT_EQ(peers.load(), 0U) << "a query never makes a peer, even when there is none";
  ASSERT_EQ(peers.observe(kA, false, kStart), Outcome::changed);
  peers.seen(kB, kStart + 2s);
  EXPECT_EQ(peers.load(), kA);
  peers.seen(kA, kStart + 2s);  // the peer polling its stats is the peer talking
  EXPECT_FALSE(peers.expire(kStart + 5s));
  peers.seen(kB, kStart + 4s);  // an observer's query does not keep the peer alive
  EXPECT_TRUE(peers.expire(kStart + 5s + 1ns));
}

TEST(PeerPolicyNames, AreTheFlagValues) {
  EXPECT_EQ(to_string(PeerPolicy::last_sender), "last-sender");
  EXPECT_EQ(to_string(PeerPolicy::sticky), "sticky");
}

TEST(SendError, EachErrnoTheIssueNamesHasItsOwnClass) {
  EXPECT_EQ(classify_send_error(ECONNREFUSED), SendError::connection_refused);
  EXPECT_EQ(classify_send_error(EAGAIN), SendError::would_block);
  EXPECT_EQ(classify_send_error(EWOULDBLOCK), SendError::would_block);
  EXPECT_EQ(classify_send_error(ENOBUFS), SendError::no_buffers);
  EXPECT_EQ(classify_send_error(EINTR), SendError::interrupted);
  EXPECT_EQ(classify_send_error(EMSGSIZE), SendError::message_too_large);
  EXPECT_EQ(classify_send_error(EPERM), SendError::other);
  EXPECT_EQ(to_string(SendError::connection_refused), "econnrefused");
  EXPECT_EQ(to_string(SendError::would_block), "eagain");
  EXPECT_EQ(to_string(SendError::no_buffers), "enobufs");
  EXPECT_EQ(to_string(SendError::interrupted), "eintr");
  EXPECT_EQ(to_string(SendError::message_too_large), "emsgsize");
  EXPECT_EQ(to_string(SendError::other), "other");
}

}  // namespace
}  // namespace sil::bridge
