#include "sil/bridge/datagram.hpp"

namespace sil::bridge {

std::string_view to_string(Verdict verdict) noexcept {
  switch (verdict) {
    case Verdict::accepted: return "accepted";
    case Verdict::too_short: return "too_short";
    case Verdict::unknown_id: return "unknown_id";
    case Verdict::wrong_size: return "wrong_size";
    case Verdict::truncated: return "truncated";
  }
  return "unknown";
}

DecodeResult decode_datagram(std::span<const std::byte> datagram, bool truncated) noexcept {
  DecodeResult result;
  result.verdict = decode_datagram_into(datagram, truncated, result.message);
  return result;
}

}  // namespace sil::bridge
