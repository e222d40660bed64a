// _sil_probe: a test-only module with one message holding a field of every
// FieldKind. The catalogue uses only some kinds; this proves the generic
// binding converts and range-checks all of them, before a real message
// needs one. Built with the tests, never part of the sil package.
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string_view>
#include <tuple>

#include "message_class.hpp"
#include "sil/ipc/field.hpp"
#include "sil/ipc/message.hpp"
#include "sil/ipc/wire_types.hpp"

namespace {

namespace ipc = sil::ipc;

struct AllKinds {
  static constexpr ipc::MsgId id = static_cast<ipc::MsgId>(0xFFFE);
  static constexpr std::string_view name = "AllKinds";

  std::uint8_t u8;
  std::int8_t i8;
  ipc::le_u16 u16;
  ipc::le_i16 i16;
  ipc::le_u32 u32;
  ipc::le_i32 i32;
  ipc::le_u64 u64;
  ipc::le_i64 i64;
  ipc::le_f32 f32;
  ipc::le_f64 f64;
  ipc::FixedString<5> text;

  static constexpr auto fields() {
    using A = AllKinds;
    return std::tuple{ipc::field<&A::u8>("u8"),   ipc::field<&A::i8>("i8"),   ipc::field<&A::u16>("u16"),
                      ipc::field<&A::i16>("i16"), ipc::field<&A::u32>("u32"), ipc::field<&A::i32>("i32"),
                      ipc::field<&A::u64>("u64"), ipc::field<&A::i64>("i64"), ipc::field<&A::f32>("f32"),
                      ipc::field<&A::f64>("f64"), ipc::field<&A::text>("text")};
  }
};
static_assert(ipc::exact_layout<AllKinds>);

// A message with no fields (a bare request or a trigger): its class
// constructs with no arguments, since no field can be missing.
struct NoFields {
  static constexpr ipc::MsgId id = static_cast<ipc::MsgId>(0xFFFD);
  static constexpr std::string_view name = "NoFields";

  static constexpr auto fields() { return std::tuple<>{}; }
};

}  // namespace

PYBIND11_MODULE(_sil_probe, module) {
  // Every system module registers its own MsgId (module-local, so two
  // systems' modules can be loaded side by side); so does this one.
  pybind11::enum_<ipc::MsgId>(module, "MsgId", pybind11::module_local()).value("AllKinds", AllKinds::id)
      .value("NoFields", NoFields::id);
  sil::python::bind_message<AllKinds>(module);
  sil::python::bind_message<NoFields>(module);
}
