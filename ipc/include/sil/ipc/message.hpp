#pragma once
// What makes a struct a message: a compile-time id, a name, field
// descriptors, and a layout that is exactly its fields, in order, with no
// padding. A payload that breaks any of these does not compile.
#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <tuple>
#include <type_traits>

#include "sil/ipc/field.hpp"
#include "sil/ipc/msg_id.hpp"

namespace sil::ipc {

template <class T>
concept Message = std::is_trivially_copyable_v<T> && std::is_standard_layout_v<T> && requires {
  { T::id } -> std::convertible_to<MsgId>;
  { T::name } -> std::convertible_to<std::string_view>;
  T::fields();
};

namespace detail {

// Byte offset of one field, found by setting that field's bytes in an
// otherwise zero object and looking where they land. Fails to compile if the
// field's bytes are not one contiguous run.
template <class T, class F>
consteval std::size_t probe_offset() {
  using Bytes = std::array<std::uint8_t, sizeof(T)>;
  std::array<std::uint8_t, F::size> ones{};
  for (auto& b : ones) b = 0xFF;
  T probe{};
  probe.*F::member = std::bit_cast<typename F::Type>(ones);
  const auto bytes = std::bit_cast<Bytes>(probe);
  std::size_t first = sizeof(T);
  std::size_t count = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    if (bytes[i] == 0xFF) {
      if (first == sizeof(T)) first = i;
      ++count;
    }
  }
  if (count != F::size || first + count > sizeof(T)) throw "field bytes are not contiguous";
  for (std::size_t i = first; i < first + count; ++i) {
    if (bytes[i] != 0xFF) throw "field bytes are not contiguous";
  }
  return first;
}

template <class T, std::size_t... I>
consteval bool fields_tile_struct(std::index_sequence<I...>) {
  using Fields = decltype(T::fields());
  std::size_t expected = 0;
  bool ok = true;
  (
      [&] {
        using F = std::tuple_element_t<I, Fields>;
        static_assert(std::is_same_v<typename F::Owner, T>, "field describes another struct");
        ok = ok && probe_offset<T, F>() == expected;
        expected += F::size;
      }(),
      ...);
  return ok && expected == sizeof(T);
}

}  // namespace detail

// True when the field descriptors list every byte of T in declaration order.
template <Message T>
inline constexpr bool exact_layout =
    alignof(T) == 1 &&
    detail::fields_tile_struct<T>(std::make_index_sequence<std::tuple_size_v<decltype(T::fields())>>{});

template <Message T>
constexpr std::size_t field_count() noexcept {
  return std::tuple_size_v<decltype(T::fields())>;
}

// Calls fn(descriptor, offset) for each field of T, in order.
template <Message T, class Fn>
constexpr void for_each_field(Fn&& fn) {
  std::apply(
      [&](auto... fields) {
        [[maybe_unused]] std::size_t offset = 0;  // unused for a message with no fields
        ((fn(fields, offset), offset += decltype(fields)::size), ...);
      },
      T::fields());
}

}  // namespace sil::ipc
