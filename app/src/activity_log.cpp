#include "sil/app/activity_log.hpp"

#include <arpa/inet.h>

#include <array>
#include <cstddef>
#include <string_view>

namespace sil::app {

namespace {

// Appends " name N," for each non-zero difference; returns the total.
template <std::size_t N, class Name>
std::uint64_t append_deltas(std::string& out, const std::array<std::uint64_t, N>& now,
                            const std::array<std::uint64_t, N>& before, Name name) {
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < N; ++i) {
    const std::uint64_t delta = now[i] - before[i];
    if (delta == 0) continue;
    out += (total == 0 ? " " : ", ") + std::string(name(i)) + " " + std::to_string(delta);
    total += delta;
  }
  return total;
}

}  // namespace

std::string peer_to_string(std::uint64_t peer) {
  if (peer == 0) return "none";
  const sockaddr_in address = bridge::unpack_peer(peer);
  std::array<char, INET_ADDRSTRLEN> text{};
  ::inet_ntop(AF_INET, &address.sin_addr, text.data(), text.size());
  return std::string(text.data()) + ":" + std::to_string(ntohs(address.sin_port));
}

std::string ActivityLog::report(const bridge::BridgeStats& now, std::uint64_t peer) {
  std::string out;
  const std::uint64_t changes = now.peer_changes - last_.peer_changes;
  const std::uint64_t expiries = now.peer_expiries - last_.peer_expiries;
  if (changes != 0 || expiries != 0) {
    out += "sil-sim: peer is now " + peer_to_string(peer) + " (" + std::to_string(changes) + " change(s), " +
           std::to_string(expiries) + " idle timeout(s) in the last second)\n";
  }
  if (const std::uint64_t refused = now.rx_not_peer - last_.rx_not_peer; refused != 0) {
    out += "sil-sim: " + std::to_string(refused) +
           " datagram(s) from senders other than the sticky peer in the last second (delivered; the peer "
           "stays " + peer_to_string(peer) + ")\n";
  }

  // Every drop reason in one array: the verdicts, then the bridge's own.
  constexpr std::size_t kReasons = bridge::kVerdictCount + 2;
  auto drops = [](const bridge::BridgeStats& s) {
    std::array<std::uint64_t, kReasons> all{};
    for (std::size_t i = 1; i < bridge::kVerdictCount; ++i) all[i] = s.rx[i];  // [0] is accepted
    all[bridge::kVerdictCount] = s.rx_inbox_full;
    all[bridge::kVerdictCount + 1] = s.rx_not_allowed;
    return all;
  };
  std::string line;
  const std::uint64_t dropped = append_deltas(line, drops(now), drops(last_), [](std::size_t i) -> std::string_view {
    if (i == bridge::kVerdictCount) return "inbox_full";
    if (i == bridge::kVerdictCount + 1) return "not_allowed";
    return ipc::to_string(static_cast<ipc::Verdict>(i));
  });
  if (dropped != 0) {
    out += "sil-sim: dropped " + std::to_string(dropped) + " inbound datagram(s) in the last second:" + line + "\n";
  }

  line.clear();
  const std::uint64_t failed =
      append_deltas(line, now.tx_errors_by_reason, last_.tx_errors_by_reason,
                    [](std::size_t i) { return bridge::to_string(static_cast<bridge::SendError>(i)); });
  if (failed != 0) {
    out += "sil-sim: " + std::to_string(failed) + " send(s) failed in the last second:" + line + "\n";
  }
  last_ = now;
  return out;
}

}  // namespace sil::app
