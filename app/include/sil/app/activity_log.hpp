#pragma once
// What sil-sim tells its stderr about the bridge while it runs: peer
// changes, inbound drops by reason and send errors by class. main() calls
// report() once a second, so however fast drops happen the log gets at most
// one line of each kind per second, and nothing while all is quiet.
#include <cstdint>
#include <string>

#include "sil/bridge/bridge_core.hpp"

namespace sil::app {

class ActivityLog {
 public:
  // The lines (each ending in '\n') for what changed since the last call;
  // empty when nothing did. `peer` is the active peer word now.
  std::string report(const bridge::BridgeStats& now, std::uint64_t peer);

 private:
  bridge::BridgeStats last_{};
};

// "a.b.c.d:port" of a packed peer word, or "none".
std::string peer_to_string(std::uint64_t peer);

}  // namespace sil::app
