#pragma once
// Recognises a Hello control request on the receiving thread, which does not
// parse protobuf (the simulation thread does), so a sticky peer can be taken
// over explicitly. It accepts exactly the canonical encoding of
// sil.control.Request{sequence, hello} (sil/proto/sil_control.proto): an
// optional field 1 varint, then field 2 length-delimited holding an optional
// field 1 varint (the catalogue hash) and an optional field 2 varint (the
// bundle limit), then nothing. Every protobuf encoder
// writes it so; anything else is simply not a takeover. (The fuzz target
// tests/fuzz/hello_fuzz.cpp checks this against protobuf's parser.)
#include <cstddef>
#include <cstdint>
#include <span>

namespace sil::bridge {

// body: the control request without its 2-byte header.
namespace detail {

// An optional varint field with this tag byte (at most 10 bytes of value)
// at `at`: moves `at` past it; false when it is there but unfinished.
constexpr bool skip_varint_field(std::span<const std::byte> bytes, std::size_t& at, std::uint8_t tag) noexcept {
  auto byte = [&](std::size_t i) { return std::to_integer<std::uint8_t>(bytes[i]); };
  if (at >= bytes.size() || byte(at) != tag) return true;
  ++at;
  std::size_t length = 0;
  while (at < bytes.size() && (byte(at) & 0x80U) != 0 && length < 9) {
    ++at;
    ++length;
  }
  if (at >= bytes.size() || (byte(at) & 0x80U) != 0) return false;
  ++at;
  return true;
}

}  // namespace detail

constexpr bool is_hello_request(std::span<const std::byte> body) noexcept {
  std::size_t at = 0;
  if (!detail::skip_varint_field(body, at, 0x08U)) return false;  // field 1: the sequence
  // Field 2 (hello), length-delimited: tag 0x12, a one-byte length (a Hello
  // is at most 12 bytes), then exactly that many bytes to the end.
  if (at + 2 > body.size() || std::to_integer<std::uint8_t>(body[at]) != 0x12U) return false;
  const auto length = std::to_integer<std::uint8_t>(body[at + 1]);
  if ((length & 0x80U) != 0 || at + 2 + length != body.size()) return false;
  // Inside: the catalogue hash (field 1) and the bundle limit (field 2),
  // each optional, in that order, and nothing after them.
  const auto hello = body.subspan(at + 2);
  std::size_t inner = 0;
  return detail::skip_varint_field(hello, inner, 0x08U) && detail::skip_varint_field(hello, inner, 0x10U) &&
         inner == hello.size();
}

}  // namespace sil::bridge
