#pragma once
// Recognises a Hello control request on the receiving thread, which does not
// parse protobuf (the simulation thread does), so a sticky peer can be taken
// over explicitly. It accepts exactly the canonical encoding of
// sil.control.Request{sequence, hello} (sil/proto/sil_control.proto): an
// optional field 1 varint, then field 2 length-delimited, then nothing. Every
// protobuf encoder writes it so; anything else is simply not a takeover.
#include <cstddef>
#include <cstdint>
#include <span>

namespace sil::bridge {

// body: the control request without its 2-byte header.
constexpr bool is_hello_request(std::span<const std::byte> body) noexcept {
  std::size_t at = 0;
  auto byte = [&](std::size_t i) { return std::to_integer<std::uint8_t>(body[i]); };
  // Field 1 (sequence), varint: tag 0x08, at most 10 bytes of value.
  if (at < body.size() && byte(at) == 0x08U) {
    ++at;
    std::size_t length = 0;
    while (at < body.size() && (byte(at) & 0x80U) != 0 && length < 9) {
      ++at;
      ++length;
    }
    if (at >= body.size() || (byte(at) & 0x80U) != 0) return false;
    ++at;
  }
  // Field 2 (hello), length-delimited: tag 0x12, a one-byte length (a Hello
  // is at most 6 bytes), then exactly that many bytes to the end.
  if (at + 2 > body.size() || byte(at) != 0x12U || (byte(at + 1) & 0x80U) != 0) return false;
  return at + 2 + byte(at + 1) == body.size();
}

}  // namespace sil::bridge
