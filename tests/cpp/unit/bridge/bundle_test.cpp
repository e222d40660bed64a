// The bundle reader (bundle.hpp): every rule on its own, and that a bundle
// that breaks one delivers nothing at all.
#include "sil/bridge/bundle.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "test_system.hpp"

namespace sil::bridge {
namespace {

using Bytes = std::vector<std::byte>;

Bytes bytes(std::initializer_list<unsigned> values) {
  Bytes out;
  for (const unsigned v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

struct Read {
  BundleVerdict verdict;
  std::vector<Bytes> items;
};

Read read(const Bytes& datagram) {
  Read out{};
  out.verdict = for_each_bundled(std::span{datagram}, [&](std::span<const std::byte> item) {
    out.items.emplace_back(item.begin(), item.end());
  });
  return out;
}

TEST(Bundle, ItemsComeOutWholeAndInOrder) {
  const auto got = read(bytes({0xF2, 0xFF, 0x03, 0x00, 0xD2, 0x07, 0xAA, 0x02, 0x00, 0xF1, 0xFF}));
  EXPECT_EQ(got.verdict, BundleVerdict::ok);
  EXPECT_EQ(got.items, (std::vector<Bytes>{bytes({0xD2, 0x07, 0xAA}), bytes({0xF1, 0xFF})}));
}

TEST(Bundle, AnythingButTheBundleIdIsNotABundle) {
  EXPECT_EQ(read(bytes({})).verdict, BundleVerdict::not_a_bundle);
  EXPECT_EQ(read(bytes({0xF2})).verdict, BundleVerdict::not_a_bundle);
  EXPECT_EQ(read(bytes({0xF1, 0xFF, 0x02, 0x00, 0xD2, 0x07})).verdict, BundleVerdict::not_a_bundle);
  EXPECT_EQ(read(bytes({0xD2, 0x07})).verdict, BundleVerdict::not_a_bundle);
}

TEST(Bundle, AHeaderWithoutItemsIsEmpty) { EXPECT_EQ(read(bytes({0xF2, 0xFF})).verdict, BundleVerdict::empty); }

TEST(Bundle, ALengthThatRunsPastTheEndIsACutItem) {
  EXPECT_EQ(read(bytes({0xF2, 0xFF, 0x03})).verdict, BundleVerdict::cut_item);  // half a length
  EXPECT_EQ(read(bytes({0xF2, 0xFF, 0x03, 0x00, 0xD2, 0x07})).verdict, BundleVerdict::cut_item);  // one byte short
  EXPECT_EQ(read(bytes({0xF2, 0xFF, 0xFF, 0xFF, 0xD2, 0x07})).verdict, BundleVerdict::cut_item);
}

TEST(Bundle, AnItemWithoutAMsgIdIsShort) {
  EXPECT_EQ(read(bytes({0xF2, 0xFF, 0x00, 0x00})).verdict, BundleVerdict::short_item);
  EXPECT_EQ(read(bytes({0xF2, 0xFF, 0x01, 0x00, 0xD2})).verdict, BundleVerdict::short_item);
}

TEST(Bundle, ABundleInsideABundleIsRefused) {
  EXPECT_EQ(read(bytes({0xF2, 0xFF, 0x06, 0x00, 0xF2, 0xFF, 0x02, 0x00, 0xD2, 0x07})).verdict, BundleVerdict::nested);
}

TEST(Bundle, AMalformedBundleDeliversNothingNotEvenItsGoodFirstItem) {
  const auto got = read(bytes({0xF2, 0xFF, 0x02, 0x00, 0xD2, 0x07, 0x05, 0x00, 0x01}));
  EXPECT_EQ(got.verdict, BundleVerdict::cut_item);
  EXPECT_TRUE(got.items.empty());
}

TEST(Bundle, TheLimitAHarnessAsksForIsCappedOrTurnedOff) {
  // The floor follows the system's largest datagram: checked for the test
  // system's and for a larger one.
  for (const std::size_t max_datagram : {sil::test::kMaxDatagramSize, std::size_t{1000}}) {
    const std::size_t min_bytes = min_bundle_bytes(max_datagram);
    EXPECT_GT(min_bytes, max_datagram) << "a bundle must hold the largest datagram and its framing";
    EXPECT_EQ(effective_bundle_bytes(0, max_datagram), 0U);
    EXPECT_EQ(effective_bundle_bytes(min_bytes - 1, max_datagram), 0U) << "too small to hold the largest message";
    EXPECT_EQ(effective_bundle_bytes(min_bytes, max_datagram), min_bytes);
    EXPECT_EQ(effective_bundle_bytes(1472, max_datagram), 1472U);
    EXPECT_EQ(effective_bundle_bytes(1'000'000, max_datagram), kMaxBundleBytes);
  }
}

}  // namespace
}  // namespace sil::bridge
