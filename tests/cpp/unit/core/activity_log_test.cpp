// sil-sim's once-a-second log of peer changes, drops and send errors.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <string>

#include "sil/app/activity_log.hpp"
#include "test_system.hpp"

namespace sil::app {
namespace {

using bridge::BridgeStats;
using bridge::SendError;
using bridge::Verdict;

std::uint64_t& rx(BridgeStats& s, Verdict v) { return s.rx[static_cast<std::size_t>(v)]; }
std::uint64_t& tx(BridgeStats& s, SendError e) { return s.tx_errors_by_reason[static_cast<std::size_t>(e)]; }

const std::uint64_t kPeer = bridge::pack_peer(htonl(0x7F000002U), htons(4000));

TEST(ActivityLog, SaysNothingWhileNothingHappens) {
  ActivityLog log;
  BridgeStats stats;
  EXPECT_EQ(log.report(stats, 0), "");
  rx(stats, Verdict::accepted) = 1000;  // traffic that is all fine is not news
  stats.rx_by_message.assign(sil::test::Catalogue::size, 0);  // per message, as a bridge over the catalogue reports
  stats.tx_by_message.assign(sil::test::Catalogue::size, 0);
  stats.rx_by_message[0] = 1000;
  stats.tx_by_message[0] = 500;
  EXPECT_EQ(log.report(stats, kPeer), "");
}

TEST(ActivityLog, ReportsDropsByReasonAsDifferencesSinceTheLastReport) {
  ActivityLog log;
  BridgeStats stats;
  rx(stats, Verdict::too_short) = 3;
  stats.rx_not_allowed = 2;
  EXPECT_EQ(log.report(stats, 0),
            "sil-sim: dropped 5 inbound datagram(s) in the last second: too_short 3, not_allowed 2\n");
  EXPECT_EQ(log.report(stats, 0), "") << "the same counts again are not news";
  rx(stats, Verdict::wrong_size) = 1;
  stats.rx_inbox_full = 4;
  EXPECT_EQ(log.report(stats, 0),
            "sil-sim: dropped 5 inbound datagram(s) in the last second: wrong_size 1, inbox_full 4\n");
}

TEST(ActivityLog, ReportsSendErrorsByClass) {
  ActivityLog log;
  BridgeStats stats;
  tx(stats, SendError::would_block) = 7;
  tx(stats, SendError::message_too_large) = 1;
  EXPECT_EQ(log.report(stats, kPeer), "sil-sim: 8 send(s) failed in the last second: eagain 7, emsgsize 1\n");
}

TEST(ActivityLog, ReportsPeerChangesWithTheNewPeer) {
  ActivityLog log;
  BridgeStats stats;
  stats.peer_changes = 3;
  EXPECT_EQ(log.report(stats, kPeer),
            "sil-sim: peer is now 127.0.0.2:4000 (3 change(s), 0 idle timeout(s) in the last second)\n");
  stats.peer_expiries = 1;
  stats.rx_not_peer = 9;
  EXPECT_EQ(log.report(stats, 0),
            "sil-sim: peer is now none (0 change(s), 1 idle timeout(s) in the last second)\n"
            "sil-sim: 9 datagram(s) from senders other than the sticky peer in the last second (delivered; "
            "the peer stays none)\n");
}

TEST(PeerToString, PrintsAddressAndPort) {
  EXPECT_EQ(peer_to_string(0), "none");
  EXPECT_EQ(peer_to_string(kPeer), "127.0.0.2:4000");
}

}  // namespace
}  // namespace sil::app
