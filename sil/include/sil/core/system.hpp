#pragma once
// A system: the user's messages and the services that run, in tick order.
// It is a struct that names both:
//
//     struct ThermalSystem : sil::SystemDefaults {
//       using messages = sil::Messages<SetPoint, PlantTemperature, HeaterCommand>;
//       using services = sil::Services<sil::Instance<"plant", HeaterPlant>,
//                                      sil::Instance<"thermostat", Thermostat, &kThermostatConfig>>;
//     };
//
// and everything else derives from it: the catalogue (the framework's
// messages first, then these), its hash, the bus, the simulation, sil-sim
// and the Python module (sil_add_system in CMake). The framework's
// RevisionService ("revision") and HeartbeatService ("heartbeat") tick
// first unless the system sets framework_services = false.
// docs/services.md "Declaring a system".
#include <algorithm>
#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "sil/ipc/catalogue.hpp"
#include "sil/ipc/messages.hpp"
#include "sil/services/counters.hpp"
#include "sil/services/heartbeat_service.hpp"
#include "sil/services/params.hpp"
#include "sil/services/revision_service.hpp"

namespace sil {

// An instance name as a template argument: sil::Instance<"left", HeaterPlant>.
template <std::size_t N>
struct InstanceName {
  char chars[N]{};
  consteval InstanceName(const char (&text)[N]) {  // NOLINT: implicit on purpose, from a string literal
    for (std::size_t i = 0; i < N; ++i) chars[i] = text[i];
  }
  constexpr std::string_view view() const noexcept { return {chars, N - 1}; }
};

// One service in a system: its name, its class, and optionally a pointer to
// a constant Config for it (else the class's default Config, if it has one).
template <InstanceName Name, class Service, auto Config = nullptr>
struct Instance {
  using service = Service;
  static constexpr std::string_view name = Name.view();
  static constexpr auto config = Config;
  static_assert(!name.empty(), "an instance needs a name");
  static_assert(std::is_null_pointer_v<decltype(Config)> || std::is_pointer_v<decltype(Config)>,
                "an instance's config is given as a pointer to a constant: &kMyConfig");
};

template <class... Ts>
struct Messages {};

template <class... Is>
struct Services {};

#ifndef SIL_FAULT_INJECTION
#define SIL_FAULT_INJECTION 1  // sil_add_system(... NO_FAULTS) defines it 0
#endif

struct SystemDefaults {
  using messages = Messages<>;
  using services = Services<>;
  // RevisionService and HeartbeatService tick first, as "revision" and "heartbeat".
  static constexpr bool framework_services = true;
  // false: the bus has no fault stage at all and the control plane refuses
  // faults, saying so (a build for a real rig; docs/faults.md).
  static constexpr bool fault_injection = SIL_FAULT_INJECTION != 0;
};

namespace detail {

template <class List>
struct UserCatalogue;
template <class... Ts>
struct UserCatalogue<Messages<Ts...>> {
  static_assert((ipc::Message<Ts> && ...), "sil::Messages<...> lists something that is not a message");
  static_assert(((!ipc::is_reserved_id(static_cast<std::uint16_t>(Ts::id))) && ...),
                "a message of this system uses a reserved id: 2000-2099 are the framework's, 0xFF00 and above "
                "the control plane's (docs/services.md \"Message ids\")");
  using type = ipc::Catalogue<ipc::RevisionRequest, ipc::RevisionResponse, ipc::Heartbeat, Ts...>;
};

template <bool Framework, class List>
struct AllInstances;
template <class... Is>
struct AllInstances<false, Services<Is...>> {
  using type = Services<Is...>;
};
template <class... Is>
struct AllInstances<true, Services<Is...>> {
  using type = Services<Instance<"revision", services::RevisionService>,
                        Instance<"heartbeat", services::HeartbeatService>, Is...>;
};

template <class... Is>
consteval bool names_unique(Services<Is...>) {
  const std::string_view names[] = {std::string_view{}, Is::name...};
  for (std::size_t i = 1; i < std::size(names); ++i)
    for (std::size_t j = i + 1; j < std::size(names); ++j)
      if (names[i] == names[j]) return false;
  return true;
}

}  // namespace detail

// A service with run-time parameters names them `Params` (SIL_PARAMS).
template <class S>
concept HasParams = requires { typename S::Params; } && ParamSet<typename S::Params>;

// A service with counters names them `Counters` (SIL_COUNTERS) and lets the
// framework read them with counters().
template <class S>
concept HasCounters = requires(const S& service) {
  typename S::Counters;
  requires CounterSet<typename S::Counters>;
  { service.counters() } -> std::same_as<const typename S::Counters&>;
};

namespace detail {

template <class T>
constexpr std::uint64_t hash_bits(T value) {
  if constexpr (std::is_same_v<T, double>) {
    return std::bit_cast<std::uint64_t>(value);
  } else {
    return static_cast<std::uint64_t>(value);
  }
}

// Folds what a harness relies on about each parameter (its name, type,
// range, unit and rules; not its default or description) into the hash:
// the bytes of "<instance>.<name>", then as u64 the type's index in
// ipc::ParamKind, min and max (a double's bits; an integer, sign-extended;
// a bool's 0 and 1) and read_only | restart << 1, then the unit and a NUL.
// sil/catalogue.py computes the same.
template <class I>
consteval std::uint32_t fold_params(std::uint32_t hash) {
  if constexpr (HasParams<typename I::service>) {
    std::apply(
        [&](const auto&... spec) {
          ((hash = ipc::detail::fnv1a(hash, I::name), hash = ipc::detail::fnv1a(hash, "."),
            hash = ipc::detail::fnv1a(hash, spec.name), hash = ipc::detail::fnv1a(hash, static_cast<std::uint64_t>(spec.kind)),
            hash = ipc::detail::fnv1a(hash, hash_bits(spec.min)), hash = ipc::detail::fnv1a(hash, hash_bits(spec.max)),
            hash = ipc::detail::fnv1a(hash, std::uint64_t{spec.read_only} | std::uint64_t{spec.restart} << 1),
            hash = ipc::detail::fnv1a(hash, spec.unit), hash = ipc::detail::fnv1a(hash, std::string_view("\0", 1))),
           ...);
        },
        I::service::Params::params());
  }
  return hash;
}

template <class Catalogue, class... Is>
consteval std::uint32_t system_hash(Services<Is...>) {
  std::uint32_t hash = Catalogue::hash;
  ((hash = fold_params<Is>(hash)), ...);
  return hash;
}

}  // namespace detail

// What the framework derives from a system.
template <class Spec>
struct SystemTraits {
  using catalogue = typename detail::UserCatalogue<typename Spec::messages>::type;
  using instances = typename detail::AllInstances<Spec::framework_services, typename Spec::services>::type;
  static_assert(detail::names_unique(instances{}), "two instances of this system share one name");
  // The catalogue hash a harness compares: the messages' layouts and, for a
  // system with parameters, their names, types, ranges and rules. Without
  // parameters it is the message catalogue's hash.
  static constexpr std::uint32_t hash = detail::system_hash<catalogue>(instances{});
};

}  // namespace sil
