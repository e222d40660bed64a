#pragma once
// A system's parameters as run-time data: what the catalogue carries for
// each one (its qualified name, type, default, range, unit, description and
// rules) and the value type that travels through the control plane, the
// command line and recordings. Declared in services (sil/services/params.hpp,
// SIL_PARAMS); the live values are the simulation's (sil/core/param_table.hpp).
// docs/parameters.md.
#include <cstdint>
#include <charconv>
#include <system_error>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace sil::ipc {

// The C++ types a parameter may have.
enum class ParamKind : std::uint8_t { boolean, i32, i64, u32, u64, f64 };

constexpr std::string_view to_string(ParamKind kind) noexcept {
  switch (kind) {
    case ParamKind::boolean: return "bool";
    case ParamKind::i32: return "i32";
    case ParamKind::i64: return "i64";
    case ParamKind::u32: return "u32";
    case ParamKind::u64: return "u64";
    case ParamKind::f64: return "f64";
  }
  return "?";
}

constexpr bool is_integer(ParamKind kind) noexcept {
  return kind == ParamKind::i32 || kind == ParamKind::i64 || kind == ParamKind::u32 || kind == ParamKind::u64;
}

// A value as it travels, before it is checked against a parameter: a bool,
// a signed or unsigned integer, or a double (sil_control.proto ParamValue).
using ParamValue = std::variant<bool, std::int64_t, std::uint64_t, double>;

// "true", "-3", "18446744073709551615", "0.25": the shortest text that
// reads back as the same value.
inline std::string to_string(const ParamValue& value) {
  if (const bool* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  if (const auto* i = std::get_if<std::int64_t>(&value)) return std::to_string(*i);
  if (const auto* u = std::get_if<std::uint64_t>(&value)) return std::to_string(*u);
  char text[32];
  const auto [end, ec] = std::to_chars(text, text + sizeof text, std::get<double>(value));
  return ec == std::errc{} ? std::string(text, end) : std::string("?");
}

// One change: a parameter by its qualified name, and a value not yet checked.
struct ParamAssignment {
  std::string name;
  ParamValue value;
};

// When a change is asked for: before the first tick (the command line, the
// sil_params marker, a recording's header) or while the simulation runs.
enum class ParamPhase : std::uint8_t { before_start, running };

struct ParamInfo {
  std::string name;  // qualified: "<instance>.<parameter>"
  ParamKind kind = ParamKind::f64;
  ParamValue default_value;  // the instance's value at start, before --param
  ParamValue min, max;       // inclusive; a bool's are false and true
  std::string_view unit;     // "" when it has none
  std::string_view description;
  bool read_only = false;  // never set, not even before start
  bool restart = false;    // set before start only (--param, sil_params marker)
};

}  // namespace sil::ipc
