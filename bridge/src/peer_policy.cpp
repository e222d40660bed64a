#include "sil/bridge/peer_policy.hpp"

namespace sil::bridge {

std::string_view to_string(PeerPolicy policy) noexcept {
  switch (policy) {
    case PeerPolicy::last_sender: return "last-sender";
    case PeerPolicy::sticky: return "sticky";
  }
  return "unknown";
}

}  // namespace sil::bridge
