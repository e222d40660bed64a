#pragma once
// Which sender is the active peer (the one telemetry goes to), decided on
// the receiving thread, the only writer of the peer word. Time is a
// parameter, so every rule is testable without sleeping.
//  - last_sender: every valid datagram makes its sender the peer.
//  - sticky: a new sender takes over only when the peer has been silent for
//    takeover_after, or when it sends a Hello.
//  - idle_timeout (either policy, off when zero): a peer silent longer than
//    that is dropped, and telemetry stops until some sender becomes the peer.
//  - a query (GetStats, GetCatalogue) never changes the peer under either
//    policy; from the peer it counts as the peer speaking (seen()).
#include <chrono>
#include <cstdint>
#include <string_view>

#include "sil/bridge/peer.hpp"

namespace sil::bridge {

enum class PeerPolicy : std::uint8_t { last_sender, sticky };

std::string_view to_string(PeerPolicy policy) noexcept;

struct PeerRules {
  static constexpr std::chrono::nanoseconds kDefaultTakeoverAfter = std::chrono::seconds{2};

  PeerPolicy policy = PeerPolicy::last_sender;
  std::chrono::nanoseconds takeover_after = kDefaultTakeoverAfter;  // sticky only
  std::chrono::nanoseconds idle_timeout{0};                          // zero: never
};

class PeerTracker {
 public:
  using Clock = std::chrono::steady_clock;
  using Time = Clock::time_point;

  enum class Outcome : std::uint8_t {
    same,     // the sender already is the peer
    changed,  // the sender is the peer now
    refused,  // sticky: another peer holds on, the sender stays a non-peer
  };

  explicit PeerTracker(PeerRules rules = {}) noexcept : rules_(rules) {}

  // Whether observe/expire look at the time at all: the plain last-sender
  // rule does not, and then the caller need not read the clock.
  bool uses_time() const noexcept {
    return rules_.policy == PeerPolicy::sticky || rules_.idle_timeout.count() > 0;
  }

  // Any thread: the peer word, packed as in peer.hpp (0: none).
  std::uint64_t load() const noexcept { return peer_.load(); }

  // Receiving thread: a valid datagram (or control request) from sender;
  // hello is true when it is a Hello request.
  Outcome observe(std::uint64_t sender, bool hello, Time now) noexcept {
    const std::uint64_t current = peer_.load();
    if (sender == current) {
      last_seen_ = now;
      return Outcome::same;
    }
    const bool takes_over = current == 0 || rules_.policy == PeerPolicy::last_sender || hello ||
                            now - last_seen_ >= rules_.takeover_after;
    if (!takes_over) return Outcome::refused;
    peer_.update(sender);
    last_seen_ = now;
    return Outcome::changed;
  }

  // Receiving thread: a query from sender. It never takes the peer (an
  // observer must not take the telemetry from the harness); from the peer
  // it keeps the peer alive, as any datagram from it does.
  void seen(std::uint64_t sender, Time now) noexcept {
    if (sender != 0 && sender == peer_.load()) last_seen_ = now;
  }

  // Receiving thread: drops a peer that has been silent longer than the
  // idle timeout. Returns true when it did.
  bool expire(Time now) noexcept {
    if (rules_.idle_timeout.count() <= 0 || peer_.load() == 0 || now - last_seen_ <= rules_.idle_timeout) {
      return false;
    }
    peer_.update(0);
    return true;
  }

  // When expire() will next drop the peer, if it ever will.
  bool expiry(Time& at) const noexcept {
    if (rules_.idle_timeout.count() <= 0 || peer_.load() == 0) return false;
    at = last_seen_ + rules_.idle_timeout;
    return true;
  }

  const PeerRules& rules() const noexcept { return rules_; }

 private:
  PeerRules rules_;
  ActivePeer peer_;
  Time last_seen_{};  // receiving thread only: when the peer last sent a valid datagram
};

}  // namespace sil::bridge
