#pragma once
// Describes one field of a payload struct: its name, its wire type and where
// it sits. Descriptors are what the Python binding and the catalogue read;
// layout.hpp proves at compile time that they match the struct.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "sil/ipc/wire_types.hpp"

namespace sil::ipc {

enum class FieldKind : std::uint8_t { u8, i8, u16, i16, u32, i32, u64, i64, f32, f64, text };

constexpr std::string_view to_string(FieldKind kind) noexcept {
  switch (kind) {
    case FieldKind::u8: return "u8";
    case FieldKind::i8: return "i8";
    case FieldKind::u16: return "u16";
    case FieldKind::i16: return "i16";
    case FieldKind::u32: return "u32";
    case FieldKind::i32: return "i32";
    case FieldKind::u64: return "u64";
    case FieldKind::i64: return "i64";
    case FieldKind::f32: return "f32";
    case FieldKind::f64: return "f64";
    case FieldKind::text: return "text";
  }
  return "?";
}

template <class T>
struct FieldTraits;  // only the wire types below may appear in a payload
template <>
struct FieldTraits<std::uint8_t> {
  static constexpr FieldKind kind = FieldKind::u8;
};
template <>
struct FieldTraits<std::int8_t> {
  static constexpr FieldKind kind = FieldKind::i8;
};
template <>
struct FieldTraits<le_u16> {
  static constexpr FieldKind kind = FieldKind::u16;
};
template <>
struct FieldTraits<le_i16> {
  static constexpr FieldKind kind = FieldKind::i16;
};
template <>
struct FieldTraits<le_u32> {
  static constexpr FieldKind kind = FieldKind::u32;
};
template <>
struct FieldTraits<le_i32> {
  static constexpr FieldKind kind = FieldKind::i32;
};
template <>
struct FieldTraits<le_u64> {
  static constexpr FieldKind kind = FieldKind::u64;
};
template <>
struct FieldTraits<le_i64> {
  static constexpr FieldKind kind = FieldKind::i64;
};
template <>
struct FieldTraits<le_f32> {
  static constexpr FieldKind kind = FieldKind::f32;
};
template <>
struct FieldTraits<le_f64> {
  static constexpr FieldKind kind = FieldKind::f64;
};
template <std::size_t N>
struct FieldTraits<FixedString<N>> {
  static constexpr FieldKind kind = FieldKind::text;
};

namespace detail {
template <class M>
struct MemberPointer;
template <class C, class T>
struct MemberPointer<T C::*> {
  using owner = C;
  using type = T;
};
}  // namespace detail

template <auto Member>
struct Field {
  using Owner = typename detail::MemberPointer<decltype(Member)>::owner;
  using Type = typename detail::MemberPointer<decltype(Member)>::type;
  static constexpr auto member = Member;
  static constexpr FieldKind kind = FieldTraits<Type>::kind;
  static constexpr std::size_t size = sizeof(Type);

  std::string_view name;

  static constexpr const Type& get(const Owner& payload) noexcept { return payload.*Member; }
  static constexpr Type& get(Owner& payload) noexcept { return payload.*Member; }
};

// `field<&RevisionRequest::request_id>("request_id")`
template <auto Member>
constexpr Field<Member> field(std::string_view name) noexcept {
  return Field<Member>{name};
}

}  // namespace sil::ipc
