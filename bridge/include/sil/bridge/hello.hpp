#pragma once
// Recognises the control requests that matter to the peer rules on the
// receiving thread, which does not parse protobuf (the simulation thread
// does): a Hello, so a sticky peer can be taken over explicitly, and a query
// (GetStats, GetCatalogue), which never takes the peer, so an observer such
// as sil-top does not take the telemetry from the harness
// (docs/security.md "Who receives telemetry: the peer policies").
// is_hello_request accepts exactly the canonical encoding of
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

// What a datagram asks of the peer rules (PeerTracker): a message or a
// command may make its sender the peer, a Hello takes over even a sticky
// peer, a query only looks.
enum class PeerClaim : std::uint8_t { ordinary, hello, query };

// A query: the canonical encoding of sil.control.Request{sequence,
// get_stats} or {sequence, get_catalogue}: an optional field 1 varint, then
// field 7 or 8 with no bytes, then nothing. Anything else is not a query,
// and so falls under the ordinary rule.
constexpr bool is_query_request(std::span<const std::byte> body) noexcept {
  std::size_t at = 0;
  if (!detail::skip_varint_field(body, at, 0x08U)) return false;  // field 1: the sequence
  if (at + 2 != body.size() || std::to_integer<std::uint8_t>(body[at + 1]) != 0) return false;
  const auto tag = std::to_integer<std::uint8_t>(body[at]);
  return tag == 0x3AU || tag == 0x42U;  // field 7 (get_stats), field 8 (get_catalogue)
}

constexpr PeerClaim claim_of_request(std::span<const std::byte> body) noexcept {
  if (is_hello_request(body)) return PeerClaim::hello;
  return is_query_request(body) ? PeerClaim::query : PeerClaim::ordinary;
}

}  // namespace sil::bridge
