#include "sil/bridge/datagram.hpp"

#include <cstring>

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

Verdict decode_datagram_into(std::span<const std::byte> datagram, bool truncated, ipc::AnyMessage& out) noexcept {
  if (truncated || datagram.size() > kMaxDatagramSize) return Verdict::truncated;
  if (datagram.size() < kHeaderSize) return Verdict::too_short;
  const auto id = static_cast<std::uint16_t>(std::to_integer<unsigned>(datagram[0]) |
                                             (std::to_integer<unsigned>(datagram[1]) << 8U));
  const auto body = datagram.subspan(kHeaderSize);
  Verdict verdict = Verdict::unknown_id;
  ipc::Catalogue::for_each([&](auto type) {
    using T = typename decltype(type)::type;
    if (id != static_cast<std::uint16_t>(T::id)) return;
    if (body.size() != sizeof(T)) {
      verdict = Verdict::wrong_size;
      return;
    }
    // Copy into a properly constructed object; the receive buffer is never
    // reinterpreted as a payload.
    T& payload = out.template emplace<T>();
    std::memcpy(&payload, body.data(), sizeof(T));
    verdict = Verdict::accepted;
  });
  return verdict;
}

DecodeResult decode_datagram(std::span<const std::byte> datagram, bool truncated) noexcept {
  DecodeResult result;
  result.verdict = decode_datagram_into(datagram, truncated, result.message);
  return result;
}

}  // namespace sil::bridge
