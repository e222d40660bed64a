#pragma once
// SIL_MESSAGE: a message declared once. It writes the struct, its id, its
// name and the field descriptors the compiler checks against the layout:
//
//     SIL_MESSAGE(SetPoint, 2100,
//                 (sil::f64, setpoint_c));  // the temperature to regulate to
//
// is the same as writing by hand
//
//     struct SetPoint {
//       static constexpr sil::ipc::MsgId id{2100};
//       static constexpr std::string_view name = "SetPoint";
//       sil::f64 setpoint_c;
//       static constexpr auto fields() { return std::tuple{sil::ipc::field<&SetPoint::setpoint_c>("setpoint_c")}; }
//     };
//
// Each field is `(type, name)`, type one of the wire types below. Up to 64
// fields. A hand-written struct is just as valid: the catalogue checks both
// alike (docs/services.md "Declaring a message").
#include <cstdint>
#include <string_view>
#include <tuple>

#include "sil/ipc/field.hpp"
#include "sil/ipc/message.hpp"
#include "sil/ipc/msg_id.hpp"
#include "sil/ipc/wire_types.hpp"

namespace sil {

// The wire types by short names, for message declarations.
using u8 = std::uint8_t;
using i8 = std::int8_t;
using u16 = ipc::le_u16;
using i16 = ipc::le_i16;
using u32 = ipc::le_u32;
using i32 = ipc::le_i32;
using u64 = ipc::le_u64;
using i64 = ipc::le_i64;
using f32 = ipc::le_f32;
using f64 = ipc::le_f64;
template <std::size_t N>
using text = ipc::FixedString<N>;

}  // namespace sil

// A for-each over variadic macro arguments: the rescans below allow 64.
#define SIL_PP_PARENS ()
#define SIL_PP_EXPAND(...) SIL_PP_EXPAND3(SIL_PP_EXPAND3(SIL_PP_EXPAND3(SIL_PP_EXPAND3(__VA_ARGS__))))
#define SIL_PP_EXPAND3(...) SIL_PP_EXPAND2(SIL_PP_EXPAND2(SIL_PP_EXPAND2(SIL_PP_EXPAND2(__VA_ARGS__))))
#define SIL_PP_EXPAND2(...) SIL_PP_EXPAND1(SIL_PP_EXPAND1(SIL_PP_EXPAND1(SIL_PP_EXPAND1(__VA_ARGS__))))
#define SIL_PP_EXPAND1(...) __VA_ARGS__
#define SIL_PP_FOR_EACH(macro, context, ...) \
  __VA_OPT__(SIL_PP_EXPAND(SIL_PP_FOR_EACH_STEP(macro, context, __VA_ARGS__)))
#define SIL_PP_FOR_EACH_STEP(macro, context, first, ...) \
  macro(context, first) __VA_OPT__(SIL_PP_FOR_EACH_AGAIN SIL_PP_PARENS(macro, context, __VA_ARGS__))
#define SIL_PP_FOR_EACH_AGAIN() SIL_PP_FOR_EACH_STEP

#define SIL_DETAIL_MEMBER(owner, field) SIL_DETAIL_MEMBER_ field
#define SIL_DETAIL_MEMBER_(type, member) type member;
#define SIL_DETAIL_DESCRIPTOR(owner, field) SIL_DETAIL_DESCRIPTOR_(owner, SIL_DETAIL_UNPACK field)
#define SIL_DETAIL_UNPACK(type, member) type, member
#define SIL_DETAIL_DESCRIPTOR_(...) SIL_DETAIL_DESCRIPTOR__(__VA_ARGS__)
#define SIL_DETAIL_DESCRIPTOR__(owner, type, member) ::sil::ipc::field<&owner::member>(#member),

#define SIL_MESSAGE(Name, Id, ...)                                                          \
  struct Name {                                                                             \
    static constexpr ::sil::ipc::MsgId id{Id};                                              \
    static constexpr ::std::string_view name = #Name;                                       \
    SIL_PP_FOR_EACH(SIL_DETAIL_MEMBER, Name, __VA_ARGS__)                                   \
    static constexpr auto fields() {                                                        \
      return ::std::tuple{SIL_PP_FOR_EACH(SIL_DETAIL_DESCRIPTOR, Name, __VA_ARGS__)};       \
    }                                                                                       \
  }
