#pragma once
// Recognises a Hello control request on the receiving thread, which does not
// parse protobuf (the simulation thread does), so a sticky peer can be taken
// over explicitly. It accepts exactly the canonical encoding of
// sil.control.Request{sequence, hello} (sil/proto/sil_control.proto): an
// optional field 1 varint, then field 2 length-delimited holding an optional
// field 1 varint (the catalogue hash), then nothing. Every protobuf encoder
// writes it so; anything else is simply not a takeover. (The fuzz target
// tests/fuzz/hello_fuzz.cpp checks this against protobuf's parser.)
#include <cstddef>
#include <cstdint>
#include <span>

namespace sil::bridge {

// body: the control request without its 2-byte header.
namespace detail {

// An optional field 1 varint (tag 0x08, at most 10 bytes of value) at `at`:
// moves `at` past it; false when it is there but unfinished.
constexpr bool skip_field1_varint(std::span<const std::byte> bytes, std::size_t& at) noexcept {
  auto byte = [&](std::size_t i) { return std::to_integer<std::uint8_t>(bytes[i]); };
  if (at >= bytes.size() || byte(at) != 0x08U) return true;
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
  if (!detail::skip_field1_varint(body, at)) return false;  // the sequence
  // Field 2 (hello), length-delimited: tag 0x12, a one-byte length (a Hello
  // is at most 6 bytes), then exactly that many bytes to the end.
  if (at + 2 > body.size() || std::to_integer<std::uint8_t>(body[at]) != 0x12U) return false;
  const auto length = std::to_integer<std::uint8_t>(body[at + 1]);
  if ((length & 0x80U) != 0 || at + 2 + length != body.size()) return false;
  // Inside: nothing, or the catalogue hash and nothing after it.
  const auto hello = body.subspan(at + 2);
  std::size_t inner = 0;
  return detail::skip_field1_varint(hello, inner) && inner == hello.size();
}

}  // namespace sil::bridge
