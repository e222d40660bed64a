#include "sil/record/crc32c.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <string_view>
#include <vector>

namespace {

using sil::record::crc32c;
using sil::record::crc32c_extend;

std::span<const std::byte> bytes_of(std::string_view text) { return std::as_bytes(std::span(text)); }

// Bit-at-a-time reference: the definition, independent of the tables.
std::uint32_t reference_crc32c(std::span<const std::byte> bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (const std::byte b : bytes) {
    crc ^= static_cast<std::uint32_t>(b);
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) != 0 ? 0x82F63B78u : 0u);
  }
  return ~crc;
}

TEST(Crc32c, MatchesTheStandardCheckValue) { EXPECT_EQ(crc32c(bytes_of("123456789")), 0xE3069283u); }

TEST(Crc32c, MatchesKnownVectors) {
  // RFC 3720 (iSCSI) appendix B.4 test patterns.
  std::vector<std::byte> zeros(32, std::byte{0});
  std::vector<std::byte> ones(32, std::byte{0xFF});
  std::vector<std::byte> ascending(32);
  std::vector<std::byte> descending(32);
  for (std::size_t i = 0; i < 32; ++i) {
    ascending[i] = static_cast<std::byte>(i);
    descending[i] = static_cast<std::byte>(31 - i);
  }
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones), 0x62A8AB43u);
  EXPECT_EQ(crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(crc32c(descending), 0x113FDB5Cu);
  EXPECT_EQ(crc32c({}), 0u);
}

TEST(Crc32c, EqualsTheBitwiseDefinitionForEveryLengthAndAlignment) {
  std::vector<std::byte> data(200);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::byte>((i * 131 + 7) & 0xFF);
  for (std::size_t start = 0; start < 9; ++start) {
    for (std::size_t length = 0; start + length <= data.size(); ++length) {
      const auto part = std::span<const std::byte>(data).subspan(start, length);
      ASSERT_EQ(crc32c(part), reference_crc32c(part)) << "start " << start << " length " << length;
    }
  }
}

TEST(Crc32c, ExtendsAcrossPieces) {
  const auto whole = bytes_of("the quick brown fox jumps over the lazy dog");
  for (std::size_t cut = 0; cut <= whole.size(); ++cut) {
    EXPECT_EQ(crc32c_extend(crc32c(whole.first(cut)), whole.subspan(cut)), crc32c(whole));
  }
}

}  // namespace
