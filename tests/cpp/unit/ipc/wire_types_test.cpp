// Le<T> and FixedString: the byte layout every host puts on the wire.
#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "sil/ipc/wire_types.hpp"

namespace sil::ipc {
namespace {

template <class L>
std::array<std::uint8_t, sizeof(L)> bytes_of(const L& value) {
  return std::bit_cast<std::array<std::uint8_t, sizeof(L)>>(value);
}

template <class L>
L from_bytes(const std::array<std::uint8_t, sizeof(L)>& bytes) {
  return std::bit_cast<L>(bytes);
}

static_assert(sizeof(le_u16) == 2 && alignof(le_u16) == 1);
static_assert(sizeof(le_u32) == 4 && alignof(le_u32) == 1);
static_assert(sizeof(le_u64) == 8 && alignof(le_u64) == 1);
static_assert(sizeof(le_i64) == 8 && alignof(le_i64) == 1);
static_assert(sizeof(le_f32) == 4 && alignof(le_f32) == 1);
static_assert(sizeof(le_f64) == 8 && alignof(le_f64) == 1);
static_assert(std::is_trivially_copyable_v<le_u32> && std::is_standard_layout_v<le_u32>);
static_assert(static_cast<std::uint32_t>(le_u32{0xCAFEF00DU}) == 0xCAFEF00DU, "usable in constant expressions");

TEST(LittleEndian, U16IsStoredLowByteFirst) {
  EXPECT_EQ(bytes_of(le_u16{0x1234}), (std::array<std::uint8_t, 2>{0x34, 0x12}));
  EXPECT_EQ(static_cast<std::uint16_t>(from_bytes<le_u16>({0xD1, 0x07})), 2001);
}

TEST(LittleEndian, U32IsStoredLowByteFirst) {
  EXPECT_EQ(bytes_of(le_u32{0x12345678U}), (std::array<std::uint8_t, 4>{0x78, 0x56, 0x34, 0x12}));
  EXPECT_EQ(static_cast<std::uint32_t>(from_bytes<le_u32>({0x01, 0x00, 0x00, 0x80})), 0x80000001U);
}

TEST(LittleEndian, U64IsStoredLowByteFirst) {
  EXPECT_EQ(bytes_of(le_u64{0x0123456789ABCDEFULL}),
            (std::array<std::uint8_t, 8>{0xEF, 0xCD, 0xAB, 0x89, 0x67, 0x45, 0x23, 0x01}));
}

TEST(LittleEndian, I64IsTwosComplementLowByteFirst) {
  EXPECT_EQ(bytes_of(le_i64{-2}), (std::array<std::uint8_t, 8>{0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}));
  EXPECT_EQ(bytes_of(le_i64{std::numeric_limits<std::int64_t>::min()}),
            (std::array<std::uint8_t, 8>{0, 0, 0, 0, 0, 0, 0, 0x80}));
  EXPECT_EQ(static_cast<std::int64_t>(from_bytes<le_i64>({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F})),
            std::numeric_limits<std::int64_t>::max());
}

TEST(LittleEndian, F64IsTheIeeeBitPatternLowByteFirst) {
  // 1.0 is 0x3FF0000000000000; -2.5 is 0xC004000000000000.
  EXPECT_EQ(bytes_of(le_f64{1.0}), (std::array<std::uint8_t, 8>{0, 0, 0, 0, 0, 0, 0xF0, 0x3F}));
  EXPECT_EQ(bytes_of(le_f64{-2.5}), (std::array<std::uint8_t, 8>{0, 0, 0, 0, 0, 0, 0x04, 0xC0}));
  EXPECT_EQ(static_cast<double>(from_bytes<le_f64>({0x18, 0x2D, 0x44, 0x54, 0xFB, 0x21, 0x09, 0x40})),
            3.141592653589793);
}

TEST(LittleEndian, DefaultIsZero) {
  EXPECT_EQ(bytes_of(le_u64{}), (std::array<std::uint8_t, 8>{}));
  EXPECT_EQ(static_cast<std::uint64_t>(le_u64{}), 0U);
}

template <std::size_t N>
using BitsOf = std::conditional_t<N == 2, std::uint16_t, std::conditional_t<N == 4, std::uint32_t, std::uint64_t>>;

// Compares bit patterns, so -0.0 and NaN payloads count too.
template <class T>
void expect_round_trip(T value) {
  const Le<T> stored{value};
  const T loaded = stored;
  EXPECT_EQ(std::bit_cast<BitsOf<sizeof(T)>>(loaded), std::bit_cast<BitsOf<sizeof(T)>>(value)) << "value " << value;
}

TEST(LittleEndian, RoundTripsTheExtremesOfEveryType) {
  expect_round_trip<std::uint16_t>(0);
  expect_round_trip<std::uint16_t>(std::numeric_limits<std::uint16_t>::max());
  expect_round_trip<std::int16_t>(std::numeric_limits<std::int16_t>::min());
  expect_round_trip<std::int16_t>(-1);
  expect_round_trip<std::uint32_t>(std::numeric_limits<std::uint32_t>::max());
  expect_round_trip<std::int32_t>(std::numeric_limits<std::int32_t>::min());
  expect_round_trip<std::int32_t>(std::numeric_limits<std::int32_t>::max());
  expect_round_trip<std::uint64_t>(std::numeric_limits<std::uint64_t>::max());
  expect_round_trip<std::uint64_t>(0x8000000000000001ULL);
  expect_round_trip<std::int64_t>(std::numeric_limits<std::int64_t>::min());
  expect_round_trip<std::int64_t>(std::numeric_limits<std::int64_t>::max());
  expect_round_trip<float>(std::numeric_limits<float>::lowest());
  expect_round_trip<float>(std::numeric_limits<float>::denorm_min());
  expect_round_trip<float>(-0.0F);
  expect_round_trip<double>(std::numeric_limits<double>::max());
  expect_round_trip<double>(std::numeric_limits<double>::denorm_min());
  expect_round_trip<double>(-std::numeric_limits<double>::infinity());
  expect_round_trip<double>(-0.0);
}

TEST(LittleEndian, KeepsTheNanBitPatternIntact) {
  const auto payload_nan = std::bit_cast<double>(0x7FF8000000000123ULL);
  const le_f64 stored{payload_nan};
  const double loaded = stored;
  EXPECT_TRUE(std::isnan(loaded));
  EXPECT_EQ(std::bit_cast<std::uint64_t>(loaded), 0x7FF8000000000123ULL);
}

TEST(LittleEndian, AssignmentReplacesTheValue) {
  le_u32 value{1};
  value = 0xFFFFFFFFU;
  EXPECT_EQ(bytes_of(value), (std::array<std::uint8_t, 4>{0xFF, 0xFF, 0xFF, 0xFF}));
  value = 2;
  EXPECT_EQ(bytes_of(value), (std::array<std::uint8_t, 4>{0x02, 0, 0, 0}));
}

static_assert(sizeof(FixedString<40>) == 40 && alignof(FixedString<40>) == 1);
static_assert(FixedString<8>("abc").view() == "abc", "usable in constant expressions");

TEST(FixedString, ViewReturnsTheAssignedText) {
  FixedString<8> text;
  EXPECT_EQ(text.view(), "");
  text.assign("abc");
  EXPECT_EQ(text.view(), "abc");
  EXPECT_EQ(FixedString<8>::capacity, 8U);
}

TEST(FixedString, CutsTextLongerThanItsCapacity) {
  const FixedString<4> text{"abcdefgh"};
  EXPECT_EQ(text.view(), "abcd");
}

TEST(FixedString, HoldsTextOfExactlyItsCapacityWithoutATerminatingNul) {
  const FixedString<4> text{"wxyz"};
  EXPECT_EQ(text.view(), "wxyz");
  EXPECT_EQ(bytes_of(text), (std::array<std::uint8_t, 4>{'w', 'x', 'y', 'z'}));
}

TEST(FixedString, ShorterTextClearsEveryByteTheLongerTextUsed) {
  FixedString<6> text{"abcdef"};
  text.assign("xy");
  EXPECT_EQ(text.view(), "xy");
  EXPECT_EQ(bytes_of(text), (std::array<std::uint8_t, 6>{'x', 'y', 0, 0, 0, 0}));
}

TEST(FixedString, ViewStopsAtTheFirstNul) {
  const std::string with_nul("ab\0cd", 5);
  const FixedString<8> text{std::string_view{with_nul}};
  EXPECT_EQ(text.view(), "ab");
}

TEST(FixedString, ComparesByContent) {
  EXPECT_EQ(FixedString<5>{"abc"}, FixedString<5>{"abc"});
  EXPECT_NE(FixedString<5>{"abc"}, FixedString<5>{"abd"});
  EXPECT_EQ(FixedString<3>{"abcdef"}, FixedString<3>{"abcxyz"}) << "both cut to the same three bytes";
}

TEST(FixedString, TakesAStringLiteralByAssignmentLikeAnyField) {
  FixedString<8> text;
  text = "abc";
  EXPECT_EQ(text.view(), "abc");
  text = "longer than eight";
  EXPECT_EQ(text.view(), "longer t");
}

}  // namespace
}  // namespace sil::ipc
