#pragma once
// What a bundle-reading harness makes of the datagrams it received: every
// bundle opened into its items, in place; other datagrams as they are.
#include <gtest/gtest.h>

#include <cstddef>
#include <span>
#include <vector>

#include "sil/bridge/bundle.hpp"

namespace sil::test {

inline std::vector<std::vector<std::byte>> unbundle(const std::vector<std::vector<std::byte>>& datagrams) {
  std::vector<std::vector<std::byte>> out;
  for (const auto& datagram : datagrams) {
    if (!bridge::is_bundle(datagram)) {
      out.push_back(datagram);
      continue;
    }
    const auto verdict = bridge::for_each_bundled(
        std::span{datagram}, [&](std::span<const std::byte> item) { out.emplace_back(item.begin(), item.end()); });
    EXPECT_EQ(verdict, bridge::BundleVerdict::ok) << "a malformed bundle: " << bridge::to_string(verdict);
  }
  return out;
}

}  // namespace sil::test
