// Fuzz target: the bundle reader (bridge/bundle.hpp), which a harness runs on
// whatever arrives at its socket. Checked against the layout written out
// again here: the same verdict, the same items, nothing delivered from a
// malformed bundle, and the items of a good one put back together give the
// input byte for byte.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "fuzz_target.hpp"
#include "sil/bridge/bundle.hpp"

namespace {

using sil::fuzz::check;
using Item = std::span<const std::byte>;

// The layout of docs/wire-format.md "Bundles": 0xFFF2, then one or more {u16 LE n, n bytes}, each
// item at least 2 bytes and not a bundle, filling the datagram exactly.
bool well_formed(std::span<const std::byte> data, std::vector<Item>& items) {
  auto u16 = [&](std::size_t at) {
    return static_cast<std::size_t>(std::to_integer<unsigned>(data[at]) | (std::to_integer<unsigned>(data[at + 1]) << 8U));
  };
  if (data.size() < 2 || u16(0) != 0xFFF2) return false;
  std::size_t at = 2;
  while (at + 2 <= data.size()) {
    const std::size_t n = u16(at);
    if (at + 2 + n > data.size() || n < 2) return false;
    if (u16(at + 2) == 0xFFF2) return false;
    items.push_back(data.subspan(at + 2, n));
    at += 2 + n;
  }
  return at == data.size() && !items.empty();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::as_bytes(std::span{data, size});
  std::vector<Item> expected;
  const bool good = well_formed(bytes, expected);
  std::vector<Item> got;
  const auto verdict = sil::bridge::for_each_bundled(bytes, [&](Item item) { got.push_back(item); });
  check((verdict == sil::bridge::BundleVerdict::ok) == good, "the reader accepts exactly the written layout");
  if (!good) {
    check(got.empty(), "a malformed bundle delivers nothing");
    return 0;
  }
  check(got.size() == expected.size(), "every item, once");
  std::vector<std::byte> rebuilt{std::byte{0xF2}, std::byte{0xFF}};
  for (std::size_t i = 0; i < got.size(); ++i) {
    check(got[i].data() == expected[i].data() && got[i].size() == expected[i].size(), "the items, in order");
    check(got[i].size() >= sil::ipc::kHeaderSize && !sil::bridge::is_bundle(got[i]), "an item is a datagram");
    rebuilt.push_back(static_cast<std::byte>(got[i].size() & 0xFFU));
    rebuilt.push_back(static_cast<std::byte>(got[i].size() >> 8U));
    rebuilt.insert(rebuilt.end(), got[i].begin(), got[i].end());
  }
  check(std::equal(rebuilt.begin(), rebuilt.end(), bytes.begin(), bytes.end()), "items rebuild the bundle");
  return 0;
}
