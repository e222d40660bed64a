#pragma once
// SIL_COUNTERS: what a service counts (rejected inputs, saturations),
// declared once, next to its parameters. Each is (name, description):
//
//     SIL_COUNTERS(ThermostatCounters,
//                  (rejected_set_points, "SetPoints ignored because the value was not finite"));
//
// writes a struct of std::uint64_t members, each starting at 0, and the
// descriptors the framework lists them by. The service names the struct
// `Counters`, owns one, increments its members on the simulation thread
// (a plain ++: no allocation, no lock) and lets the framework read it:
//
//     const Counters& counters() const noexcept { return counters_; }
//
// The framework reads the values on the simulation thread only, between
// ticks (a control plane's GetStats, the stopped line, the in-process
// target's stats()), and reports them per instance as
// "<instance>.<counter>" (docs/counters.md).
#include <cstdint>
#include <string_view>
#include <tuple>
#include <type_traits>

#include "sil/ipc/declare.hpp"  // SIL_PP_FOR_EACH
#include "sil/ipc/field.hpp"    // ipc::detail::MemberPointer

namespace sil {

// One counter's descriptor: its member, name and description.
template <auto Member>
struct CounterSpec {
  using Owner = typename ipc::detail::MemberPointer<decltype(Member)>::owner;
  static_assert(std::is_same_v<typename ipc::detail::MemberPointer<decltype(Member)>::type, std::uint64_t>,
                "a counter is a std::uint64_t");
  static constexpr auto member = Member;

  std::string_view name, description;
};

// counter<&ThermostatCounters::rejected_set_points>("rejected_set_points", "...")
template <auto Member>
constexpr CounterSpec<Member> counter(std::string_view name, std::string_view description) {
  return {name, description};
}

// A struct declared with SIL_COUNTERS (or by hand in the same form).
template <class C>
concept CounterSet = std::is_default_constructible_v<C> && requires { std::tuple_size<decltype(C::counters())>::value; };

// What each counter set must satisfy, checked when a system uses it: every
// counter has a name, and no two share one.
template <CounterSet C>
consteval bool counters_valid() {
  return std::apply(
      [](const auto&... spec) {
        const std::string_view names[] = {std::string_view{"-"}, spec.name...};
        for (std::size_t i = 1; i < std::size(names); ++i) {
          if (names[i].empty()) return false;
          for (std::size_t j = i + 1; j < std::size(names); ++j)
            if (names[i] == names[j]) return false;
        }
        return true;
      },
      C::counters());
}

}  // namespace sil

#define SIL_DETAIL_COUNTER_MEMBER(owner, spec) SIL_DETAIL_COUNTER_MEMBER_ spec
#define SIL_DETAIL_COUNTER_MEMBER_(member, description) std::uint64_t member = 0;
#define SIL_DETAIL_COUNTER_SPEC(owner, spec) SIL_DETAIL_COUNTER_SPEC_(owner, SIL_DETAIL_COUNTER_UNPACK spec)
#define SIL_DETAIL_COUNTER_UNPACK(...) __VA_ARGS__
#define SIL_DETAIL_COUNTER_SPEC_(...) SIL_DETAIL_COUNTER_SPEC__(__VA_ARGS__)
#define SIL_DETAIL_COUNTER_SPEC__(owner, member, description) ::sil::counter<&owner::member>(#member, description),

#define SIL_COUNTERS(Name, ...)                                                          \
  struct Name {                                                                          \
    SIL_PP_FOR_EACH(SIL_DETAIL_COUNTER_MEMBER, Name, __VA_ARGS__)                        \
    static constexpr auto counters() {                                                   \
      return ::std::tuple{SIL_PP_FOR_EACH(SIL_DETAIL_COUNTER_SPEC, Name, __VA_ARGS__)}; \
    }                                                                                    \
  }
