#pragma once
// The wire format, in one place: a datagram is a u16 little-endian MsgId
// followed by exactly sizeof(payload) raw payload bytes. decode_datagram is
// the only way bytes from outside become a message of a catalogue; the
// bridge's rx loop, replay and the Python binding all use it.
//
// The inbound rules (docs/wire-format.md "Inbound datagram rules"), checked in this order:
//  1. a datagram the kernel cut (MSG_TRUNC) or longer than the largest
//     message is `truncated`: a length field is never trusted, there is none;
//  2. fewer than 2 bytes is `too_short`: there is no MsgId;
//  3. a MsgId outside the catalogue is `unknown_id`; the reserved ids
//     (>= kFirstReservedId) are never catalogue ids;
//  4. a length other than 2 + sizeof(payload) for that MsgId is `wrong_size`.
// The one exception is routed before these rules: is_control_request() picks
// out 0xFFF0, whose body goes to the control decoder (parse_control) and
// nowhere else.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "sil/ipc/catalogue.hpp"
#include "sil/ipc/message.hpp"

namespace sil::ipc {

inline constexpr std::size_t kHeaderSize = 2;
template <AnyCatalogue C>
inline constexpr std::size_t kMaxDatagramSize = kHeaderSize + C::max_payload_size;

// What happened to one inbound datagram. Everything but `accepted` is a drop.
enum class Verdict : std::uint8_t {
  accepted,
  too_short,   // fewer than 2 bytes: no MsgId
  unknown_id,  // MsgId not in the catalogue
  wrong_size,  // length is not 2 + sizeof(payload) for its MsgId
  truncated,   // larger than any message; the kernel cut it
};
inline constexpr std::size_t kVerdictCount = 5;

constexpr std::string_view to_string(Verdict verdict) noexcept {
  switch (verdict) {
    case Verdict::accepted: return "accepted";
    case Verdict::too_short: return "too_short";
    case Verdict::unknown_id: return "unknown_id";
    case Verdict::wrong_size: return "wrong_size";
    case Verdict::truncated: return "truncated";
  }
  return "unknown";
}

// Every length and id on the wire is a u16 little-endian: read at `at`
// (two bytes must be there), and written.
inline std::uint16_t read_le_u16(std::span<const std::byte> bytes, std::size_t at) noexcept {
  return static_cast<std::uint16_t>(std::to_integer<unsigned>(bytes[at]) |
                                    (std::to_integer<unsigned>(bytes[at + 1]) << 8U));
}
constexpr std::array<std::uint8_t, 2> le_u16_bytes(std::uint16_t value) noexcept {
  return {static_cast<std::uint8_t>(value & 0xFFU), static_cast<std::uint8_t>(value >> 8U)};
}

// The MsgId in a datagram's header; the datagram must have at least 2 bytes.
inline std::uint16_t datagram_id(std::span<const std::byte> datagram) noexcept { return read_le_u16(datagram, 0); }

// Rule 5: the control-plane request id is the only one that bypasses the
// message decoder; its body is a protobuf Request for parse_control.
// Every other reserved id (the reply 0xFFF1 included) decodes as unknown_id.
inline bool is_control_request(std::span<const std::byte> datagram) noexcept {
  return datagram.size() >= kHeaderSize &&
         datagram_id(datagram) == static_cast<std::uint16_t>(MsgId::ControlRequest);
}

// Decodes one datagram of catalogue C, writing an accepted payload straight
// into `out` (the rx loop passes its inbox slot, so a payload is copied
// exactly once). `out` is any variant that can hold every message of C; it
// is left untouched unless the verdict is `accepted`. `truncated` is the
// kernel's MSG_TRUNC flag for this datagram.
template <AnyCatalogue C, class Variant>
Verdict decode_datagram_into(std::span<const std::byte> datagram, bool truncated, Variant& out) noexcept {
  if (truncated || datagram.size() > kMaxDatagramSize<C>) return Verdict::truncated;
  if (datagram.size() < kHeaderSize) return Verdict::too_short;
  const std::uint16_t id = datagram_id(datagram);
  const auto body = datagram.subspan(kHeaderSize);
  Verdict verdict = Verdict::unknown_id;
  C::for_each([&](auto type) {
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

template <AnyCatalogue C>
struct DecodeResult {
  Verdict verdict = Verdict::too_short;
  typename C::Any message;  // meaningful only when verdict == accepted

  bool accepted() const noexcept { return verdict == Verdict::accepted; }
};

template <AnyCatalogue C>
DecodeResult<C> decode_datagram(std::span<const std::byte> datagram, bool truncated = false) noexcept {
  DecodeResult<C> result;
  result.verdict = decode_datagram_into<C>(datagram, truncated, result.message);
  return result;
}

// The two header bytes for an id: u16 little-endian.
constexpr std::array<std::uint8_t, kHeaderSize> header_bytes(MsgId id) noexcept {
  return le_u16_bytes(static_cast<std::uint16_t>(id));
}

// The two header bytes for T, fixed at compile time.
template <Message T>
inline constexpr std::array<std::uint8_t, kHeaderSize> kHeader = header_bytes(T::id);

// A contiguous copy of header + payload, for tools and tests. The bridge
// itself never builds one: it sends header and payload as two iovecs.
template <Message T>
std::array<std::byte, kHeaderSize + sizeof(T)> encode_datagram(const T& payload) noexcept {
  std::array<std::byte, kHeaderSize + sizeof(T)> out{};
  const auto header = std::as_bytes(std::span{kHeader<T>});
  const auto body = std::as_bytes(std::span{&payload, 1});
  std::copy(header.begin(), header.end(), out.begin());
  std::copy(body.begin(), body.end(), out.begin() + kHeaderSize);
  return out;
}

}  // namespace sil::ipc
