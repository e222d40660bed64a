#pragma once
// SIL_PARAMS: a service's run-time parameters, declared once. Each is
// (type, name, default, unit, description, rules...):
//
//     SIL_PARAMS(ThermostatParams,
//                (double, hysteresis_c, 0.5, "C", "half the width of the dead band", sil::range(0.0, 10.0)),
//                (bool, enabled, true, "", "off: the heater stays off"),
//                (std::uint32_t, samples, 4, "", "readings averaged", sil::range(1, 64), sil::at_restart));
//
// writes the struct (each member with its default) and the descriptors the
// framework builds the system's parameter table from. A numeric parameter
// needs a sil::range (inclusive); sil::read_only makes it readable only,
// sil::at_restart settable before start only (--param, the sil_params
// marker). Types: bool, std::int32_t, std::int64_t, std::uint32_t,
// std::uint64_t, double. The service names the struct `Params` and takes a
// sil::Params<ThermostatParams> in its constructor: a live view of the
// values, which the framework changes between ticks only
// (docs/parameters.md "Declaring parameters").
#include <cstdint>
#include <string_view>
#include <tuple>
#include <type_traits>

#include "sil/ipc/declare.hpp"  // SIL_PP_FOR_EACH
#include "sil/ipc/field.hpp"    // ipc::detail::MemberPointer
#include "sil/ipc/param_info.hpp"

namespace sil {

namespace params_detail {

template <class T>
struct KindOf;
template <>
struct KindOf<bool> {
  static constexpr ipc::ParamKind kind = ipc::ParamKind::boolean;
};
template <>
struct KindOf<std::int32_t> {
  static constexpr ipc::ParamKind kind = ipc::ParamKind::i32;
};
template <>
struct KindOf<std::int64_t> {
  static constexpr ipc::ParamKind kind = ipc::ParamKind::i64;
};
template <>
struct KindOf<std::uint32_t> {
  static constexpr ipc::ParamKind kind = ipc::ParamKind::u32;
};
template <>
struct KindOf<std::uint64_t> {
  static constexpr ipc::ParamKind kind = ipc::ParamKind::u64;
};
template <>
struct KindOf<double> {
  static constexpr ipc::ParamKind kind = ipc::ParamKind::f64;
};

}  // namespace params_detail

// The rules a parameter may carry after its description.
template <class T>
struct Range {
  T min, max;
};
// sil::range(0.0, 10.0): inclusive. The bounds are converted to the
// parameter's type, and must be exact in it.
template <class A, class B>
constexpr Range<std::common_type_t<A, B>> range(A min, B max) noexcept {
  return {min, max};
}
struct ReadOnly {};
struct AtRestart {};
inline constexpr ReadOnly read_only{};
inline constexpr AtRestart at_restart{};

// One parameter's descriptor: its member, name, unit, description, range
// and rules.
template <auto Member>
struct ParamSpec {
  using Owner = typename ipc::detail::MemberPointer<decltype(Member)>::owner;
  using Type = typename ipc::detail::MemberPointer<decltype(Member)>::type;
  static constexpr auto member = Member;
  static constexpr ipc::ParamKind kind = params_detail::KindOf<Type>::kind;

  std::string_view name, unit, description;
  Type min{}, max{};
  bool has_range = false;
  bool read_only = false;
  bool restart = false;

  constexpr bool in_range(Type value) const noexcept {
    if constexpr (std::is_same_v<Type, bool>) {
      return true;
    } else {
      return value >= min && value <= max;  // false for NaN
    }
  }
};

namespace params_detail {

template <auto Member, class Rule>
constexpr void apply_rule(ParamSpec<Member>& spec, const Rule& rule) {
  using Type = typename ParamSpec<Member>::Type;
  if constexpr (std::is_same_v<Rule, ReadOnly>) {
    spec.read_only = true;
  } else if constexpr (std::is_same_v<Rule, AtRestart>) {
    spec.restart = true;
  } else {
    static_assert(!std::is_same_v<Type, bool>, "a bool parameter has no range");
    static_assert(std::is_arithmetic_v<decltype(rule.min)>, "a parameter's rules are sil::range, sil::read_only, "
                                                            "sil::at_restart");
    spec.min = static_cast<Type>(rule.min);
    spec.max = static_cast<Type>(rule.max);
    spec.has_range = true;
  }
}

}  // namespace params_detail

// param<&ThermostatParams::hysteresis_c>("hysteresis_c", "C", "...", sil::range(0.0, 10.0))
template <auto Member, class... Rules>
constexpr ParamSpec<Member> param(std::string_view name, std::string_view unit, std::string_view description,
                                  const Rules&... rules) {
  ParamSpec<Member> spec{name, unit, description};
  if constexpr (std::is_same_v<typename ParamSpec<Member>::Type, bool>) {
    spec.min = false;
    spec.max = true;
  }
  (params_detail::apply_rule(spec, rules), ...);
  return spec;
}

// A struct declared with SIL_PARAMS (or by hand in the same form).
template <class P>
concept ParamSet = std::is_default_constructible_v<P> && std::is_copy_assignable_v<P> &&
                   requires { std::tuple_size<decltype(P::params())>::value; };

// What each parameter set must satisfy, checked when a system uses it: every
// numeric parameter has a range, holding its default, and a non-empty min..max.
template <ParamSet P>
consteval bool params_valid(const P& values) {
  bool ok = true;
  std::apply(
      [&](const auto&... spec) {
        ((ok = ok && (std::is_same_v<typename std::remove_cvref_t<decltype(spec)>::Type, bool> ||
                      (spec.has_range && spec.min <= spec.max)) &&
               spec.in_range(values.*(std::remove_cvref_t<decltype(spec)>::member)) && !spec.name.empty()),
         ...);
      },
      P::params());
  return ok;
}

// A service's live view of its parameters: the framework owns the values
// and changes them between ticks; a copy of the view sees every change.
template <ParamSet P>
class Params {
 public:
  explicit constexpr Params(const P& values) noexcept : values_(&values) {}
  constexpr const P& operator*() const noexcept { return *values_; }
  constexpr const P* operator->() const noexcept { return values_; }

 private:
  const P* values_;
};

}  // namespace sil

#define SIL_DETAIL_PARAM_MEMBER(owner, spec) SIL_DETAIL_PARAM_MEMBER_ spec
#define SIL_DETAIL_PARAM_MEMBER_(type, member, default_value, ...) type member = default_value;
#define SIL_DETAIL_PARAM_SPEC(owner, spec) SIL_DETAIL_PARAM_SPEC_(owner, SIL_DETAIL_PARAM_UNPACK spec)
#define SIL_DETAIL_PARAM_UNPACK(...) __VA_ARGS__
#define SIL_DETAIL_PARAM_SPEC_(...) SIL_DETAIL_PARAM_SPEC__(__VA_ARGS__)
#define SIL_DETAIL_PARAM_SPEC__(owner, type, member, default_value, unit, description, ...) \
  ::sil::param<&owner::member>(#member, unit, description __VA_OPT__(, ) __VA_ARGS__),

#define SIL_PARAMS(Name, ...)                                                        \
  struct Name {                                                                      \
    SIL_PP_FOR_EACH(SIL_DETAIL_PARAM_MEMBER, Name, __VA_ARGS__)                      \
    static constexpr auto params() {                                                 \
      return ::std::tuple{SIL_PP_FOR_EACH(SIL_DETAIL_PARAM_SPEC, Name, __VA_ARGS__)}; \
    }                                                                                \
  }
