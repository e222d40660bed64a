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

namespace detail {

// A length-delimited field's length at `at`, a varint of at most 2 bytes
// (a control request is at most 512 bytes): moves `at` past it.
constexpr bool read_length(std::span<const std::byte> bytes, std::size_t& at, std::size_t& length) noexcept {
  auto byte = [&](std::size_t i) { return std::to_integer<std::uint8_t>(bytes[i]); };
  if (at >= bytes.size()) return false;
  length = byte(at) & 0x7FU;
  if ((byte(at++) & 0x80U) == 0) return true;
  if (at >= bytes.size() || (byte(at) & 0x80U) != 0 || byte(at) == 0) return false;  // 0: not the shortest form
  length |= static_cast<std::size_t>(byte(at++)) << 7U;
  return true;
}

// GetParams{repeated string names = 1}, canonically: each name as field 1,
// length-delimited, and nothing else.
constexpr bool is_names_list(std::span<const std::byte> bytes) noexcept {
  std::size_t at = 0;
  while (at < bytes.size()) {
    if (std::to_integer<std::uint8_t>(bytes[at++]) != 0x0AU) return false;
    std::size_t length = 0;
    if (!read_length(bytes, at, length) || length > bytes.size() - at) return false;
    at += length;
  }
  return true;
}

}  // namespace detail

// A query, which reads state and changes nothing: the canonical encoding of
// sil.control.Request{sequence, q} for q one of get_stats, get_catalogue,
// list_faults (each empty) or get_params (names only): an optional field 1
// varint, then that field, then nothing. Anything else is not a query, and
// so falls under the ordinary rule.
constexpr bool is_query_request(std::span<const std::byte> body) noexcept {
  std::size_t at = 0;
  if (!detail::skip_varint_field(body, at, 0x08U)) return false;  // field 1: the sequence
  if (at >= body.size()) return false;
  const auto tag = std::to_integer<std::uint8_t>(body[at++]);
  std::size_t length = 0;
  if (!detail::read_length(body, at, length) || at + length != body.size()) return false;
  switch (tag) {
    case 0x3AU:  // field 7: get_stats
    case 0x42U:  // field 8: get_catalogue
    case 0x6AU:  // field 13: list_faults
      return length == 0;
    case 0x4AU:  // field 9: get_params
      return detail::is_names_list(body.subspan(at));
    default:
      return false;
  }
}

constexpr PeerClaim claim_of_request(std::span<const std::byte> body) noexcept {
  if (is_hello_request(body)) return PeerClaim::hello;
  return is_query_request(body) ? PeerClaim::query : PeerClaim::ordinary;
}

}  // namespace sil::bridge
