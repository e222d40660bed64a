#pragma once
// Field types for payload structs. Each has alignment 1 and a fixed
// little-endian byte layout, so a payload struct has no padding, the same
// bytes on every host, and can be handed to sendmsg as it is.
#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace sil::ipc {

namespace detail {
template <std::size_t N>
struct UnsignedOfSize;
template <>
struct UnsignedOfSize<2> {
  using type = std::uint16_t;
};
template <>
struct UnsignedOfSize<4> {
  using type = std::uint32_t;
};
template <>
struct UnsignedOfSize<8> {
  using type = std::uint64_t;
};
}  // namespace detail

// An arithmetic value stored as little-endian bytes. Converts implicitly in
// both directions so payloads read like plain structs: `req.request_id = 7`.
template <class T>
  requires(std::is_arithmetic_v<T> && sizeof(T) > 1)
class Le {
 public:
  using value_type = T;

  constexpr Le() noexcept = default;
  constexpr Le(T value) noexcept { store(value); }  // NOLINT(google-explicit-constructor)
  constexpr operator T() const noexcept { return load(); }  // NOLINT(google-explicit-constructor)
  constexpr Le& operator=(T value) noexcept {
    store(value);
    return *this;
  }

 private:
  using Bits = typename detail::UnsignedOfSize<sizeof(T)>::type;

  constexpr void store(T value) noexcept {
    const auto bits = std::bit_cast<Bits>(value);
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      bytes_[i] = static_cast<std::uint8_t>(bits >> (8 * i));
    }
  }
  constexpr T load() const noexcept {
    Bits bits = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      bits |= static_cast<Bits>(static_cast<Bits>(bytes_[i]) << (8 * i));
    }
    return std::bit_cast<T>(bits);
  }

  std::array<std::uint8_t, sizeof(T)> bytes_{};
};

using le_u16 = Le<std::uint16_t>;
using le_i16 = Le<std::int16_t>;
using le_u32 = Le<std::uint32_t>;
using le_i32 = Le<std::int32_t>;
using le_u64 = Le<std::uint64_t>;
using le_i64 = Le<std::int64_t>;
using le_f32 = Le<float>;
using le_f64 = Le<double>;

// Text in a fixed-size field: NUL-padded, not necessarily NUL-terminated
// when the text fills the field.
template <std::size_t N>
class FixedString {
 public:
  static constexpr std::size_t capacity = N;

  constexpr FixedString() noexcept = default;
  // Longer text is cut at N bytes: a build string must never fail a reply.
  constexpr FixedString(std::string_view text) noexcept { assign(text); }  // NOLINT(google-explicit-constructor)

  // So `payload.name = "text"` works like any other field assignment.
  constexpr FixedString& operator=(std::string_view text) noexcept {
    assign(text);
    return *this;
  }

  constexpr void assign(std::string_view text) noexcept {
    const std::size_t n = std::min(text.size(), N);
    std::fill(chars_.begin(), chars_.end(), '\0');
    std::copy_n(text.begin(), n, chars_.begin());
  }
  constexpr std::string_view view() const noexcept {
    const auto end = std::find(chars_.begin(), chars_.end(), '\0');
    return {chars_.data(), static_cast<std::size_t>(end - chars_.begin())};
  }

  friend constexpr bool operator==(const FixedString&, const FixedString&) = default;

 private:
  std::array<char, N> chars_{};
};

}  // namespace sil::ipc
