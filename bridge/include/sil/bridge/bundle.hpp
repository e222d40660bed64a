#pragma once
// Bundles: several outbound datagrams carried in one, for a harness that
// asked for them (Hello.bundle_bytes). Each datagram a harness receives
// costs it a trip through the kernel's receive path and a wakeup; a tick
// that publishes three messages plus an Advance reply costs four. Bundled,
// it costs one, and the harness unpacks the rest in user space.
//
// Layout (docs/wire-format.md "Bundles"):
//   u16 LE 0xFFF2, then one or more items, each
//   u16 LE n, then n bytes: a complete datagram exactly as it would have
//   been sent alone (its 2-byte MsgId, then its body).
// An item is at least 2 bytes and never a bundle itself; the items fill the
// datagram exactly. The sim only ever sends bundles; it never accepts one
// (an inbound 0xFFF2 is an unknown_id like every other reserved id).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "sil/ipc/datagram.hpp"
#include "sil/ipc/msg_id.hpp"

namespace sil::bridge {

using ipc::datagram_id;
using ipc::header_bytes;
using ipc::kHeaderSize;
using ipc::le_u16_bytes;
using ipc::read_le_u16;

inline constexpr std::size_t kBundleItemHeaderSize = 2;
// The largest UDP payload over IPv4: no bundle is larger, whatever the harness asks for.
inline constexpr std::size_t kMaxBundleBytes = 65507;
// Room for the bundle header and one item of the largest datagram of a
// catalogue: a limit below it could bundle nothing, so it turns bundling off.
constexpr std::size_t min_bundle_bytes(std::size_t max_datagram_size) noexcept {
  return kHeaderSize + kBundleItemHeaderSize + max_datagram_size;
}

// The limit a harness's request comes to: 0 (off) below min_bundle_bytes,
// capped at kMaxBundleBytes.
constexpr std::size_t effective_bundle_bytes(std::uint64_t requested, std::size_t max_datagram_size) noexcept {
  if (requested < min_bundle_bytes(max_datagram_size)) return 0;
  return requested > kMaxBundleBytes ? kMaxBundleBytes : static_cast<std::size_t>(requested);
}

inline bool is_bundle(std::span<const std::byte> datagram) noexcept {
  return datagram.size() >= kHeaderSize && datagram_id(datagram) == static_cast<std::uint16_t>(ipc::MsgId::Bundle);
}

enum class BundleVerdict : std::uint8_t {
  ok,
  not_a_bundle,  // shorter than 2 bytes, or the MsgId is not 0xFFF2
  empty,         // a header and no items
  cut_item,      // an item's length runs past the end of the datagram (or its length is cut)
  short_item,    // an item of fewer than 2 bytes: no MsgId
  nested,        // an item that is itself a bundle
};

constexpr std::string_view to_string(BundleVerdict verdict) noexcept {
  switch (verdict) {
    case BundleVerdict::ok: return "ok";
    case BundleVerdict::not_a_bundle: return "not_a_bundle";
    case BundleVerdict::empty: return "empty";
    case BundleVerdict::cut_item: return "cut_item";
    case BundleVerdict::short_item: return "short_item";
    case BundleVerdict::nested: return "nested";
  }
  return "unknown";
}

// Checks the whole bundle first, then calls on_item(std::span<const
// std::byte>) once per item, in order; so a malformed bundle delivers
// nothing, never a prefix. The only length trusted is the datagram's own:
// every item length is checked against the bytes that are there.
template <class OnItem>
BundleVerdict for_each_bundled(std::span<const std::byte> datagram, OnItem&& on_item) {
  if (!is_bundle(datagram)) return BundleVerdict::not_a_bundle;
  if (datagram.size() == kHeaderSize) return BundleVerdict::empty;
  for (std::size_t at = kHeaderSize; at < datagram.size();) {
    if (datagram.size() - at < kBundleItemHeaderSize) return BundleVerdict::cut_item;
    const std::size_t length = read_le_u16(datagram, at);
    at += kBundleItemHeaderSize;
    if (length > datagram.size() - at) return BundleVerdict::cut_item;
    if (length < kHeaderSize) return BundleVerdict::short_item;
    if (is_bundle(datagram.subspan(at, length))) return BundleVerdict::nested;
    at += length;
  }
  for (std::size_t at = kHeaderSize; at < datagram.size();) {
    const std::size_t length = read_le_u16(datagram, at);
    at += kBundleItemHeaderSize;
    on_item(datagram.subspan(at, length));
    at += length;
  }
  return BundleVerdict::ok;
}

}  // namespace sil::bridge
