#pragma once
// Owns the clock and the services of one system, builds the bus that
// connects them (and whatever else the caller attaches, such as the UDP
// bridge), and steps simulated time. It knows nothing about wall time or
// sockets: a realtime loop, a test or a HIL rig decides when step() runs.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "sil/core/system.hpp"
#include "sil/ipc/build_info.hpp"
#include "sil/ipc/message_bus.hpp"
#include "sil/ipc/sim_clock.hpp"
#include "sil/services/service.hpp"

namespace sil::core {

using ipc::SimClock;

namespace detail {

// One service instance, constructed with the first form it accepts
// (services/service.hpp).
template <class I>
struct InstanceSlot {
  using S = typename I::service;

  explicit InstanceSlot(const services::ServiceContext& context) : service(make(context)) {}

  // A config pointer in the instance, else the class's default Config.
  static constexpr bool kHasConfig = !std::is_null_pointer_v<decltype(I::config)> || requires { typename S::Config; };

  static decltype(auto) config()
    requires kHasConfig
  {
    if constexpr (!std::is_null_pointer_v<decltype(I::config)>) {
      return *I::config;
    } else {
      return typename S::Config{};
    }
  }
  static S make(const services::ServiceContext& context) {
    if constexpr (kHasConfig) {
      using Config = decltype(config());
      if constexpr (std::is_constructible_v<S, const services::ServiceContext&, Config>) {
        return S(context, config());
      } else if constexpr (std::is_constructible_v<S, const SimClock&, Config>) {
        return S(context.clock, config());
      } else if constexpr (std::is_constructible_v<S, Config>) {
        return S(config());
      } else {
        return make_without_config(context);
      }
    } else {
      return make_without_config(context);
    }
  }
  static S make_without_config(const services::ServiceContext& context) {
    if constexpr (std::is_constructible_v<S, const services::ServiceContext&>) {
      return S(context);
    } else if constexpr (std::is_constructible_v<S, const SimClock&>) {
      return S(context.clock);
    } else {
      static_assert(std::is_default_constructible_v<S>,
                    "a service is constructed from (context or clock, and its Config), or by default "
                    "(docs/services.md \"Writing a service\")");
      return S();
    }
  }
  S service;
};

// The clock sits in the first base so it is constructed before any service
// that reads it in its constructor.
struct ClockHolder {
  ClockHolder(std::uint32_t rate_hz, const ipc::BuildInfo& build) : clock_(rate_hz), build_(build) {}
  SimClock clock_;
  ipc::BuildInfo build_;
};

template <class S, class... Is>
consteval std::size_t count_of() {
  return (std::size_t{std::is_same_v<typename Is::service, S>} + ... + 0);
}

}  // namespace detail

template <class Spec, class Instances = typename SystemTraits<Spec>::instances>
class Simulation;

template <class Spec, class... Is>
class Simulation<Spec, Services<Is...>> : private detail::ClockHolder, private detail::InstanceSlot<Is>... {
 public:
  using System = Spec;
  using Catalogue = typename SystemTraits<Spec>::catalogue;
  static constexpr std::size_t kInstanceCount = sizeof...(Is);

  // `build` is what RevisionService and the ready line report: the build of
  // the system (sil_add_system generates it), not of sil.
  explicit Simulation(std::uint32_t rate_hz, const ipc::BuildInfo& build = ipc::kUnknownBuild)
      : detail::ClockHolder(rate_hz, build),
        detail::InstanceSlot<Is>(services::ServiceContext{clock_, Is::name, build_, Catalogue::hash})... {}
  Simulation(const Simulation&) = delete;  // services hold a reference to clock_
  Simulation& operator=(const Simulation&) = delete;

  const SimClock& clock() const noexcept { return clock_; }
  const ipc::BuildInfo& build() const noexcept { return build_; }

  // The one instance of service class S (ambiguous if there are several).
  template <class S>
  S& service() noexcept {
    static_assert(detail::count_of<S, Is...>() == 1,
                  "service<S>() needs exactly one instance of S in the system; use service<\"name\">()");
    return find_by_type<S, Is...>();
  }

  // The instance called `Name`.
  template <InstanceName Name>
  auto& service() noexcept {
    return find_by_name<Name, Is...>();
  }

  // Instance names, in tick order.
  static constexpr std::array<std::string_view, sizeof...(Is)> instance_names() noexcept { return {Is::name...}; }

  // The bus over every service plus `extra` subscribers (after the
  // services, so they see a message once the services have reacted).
  template <class... Extra>
  ipc::MessageBus<Catalogue, typename Is::service..., Extra...> make_bus(Extra&... extra) {
    return ipc::MessageBus<Catalogue, typename Is::service..., Extra...>(slot<Is>()..., extra...);
  }

  // One tick: each service's tick() in system order at the current time,
  // then time advances by one period.
  template <class Bus>
  void step(Bus& bus) {
    (tick_one(slot<Is>(), bus), ...);
    clock_.advance();
  }

 private:
  template <class I>
  typename I::service& slot() noexcept {
    return static_cast<detail::InstanceSlot<I>&>(*this).service;
  }
  template <class S, class I, class... Rest>
  S& find_by_type() noexcept {
    if constexpr (std::is_same_v<typename I::service, S>) {
      return slot<I>();
    } else {
      return find_by_type<S, Rest...>();
    }
  }
  template <InstanceName Name, class I, class... Rest>
  auto& find_by_name() noexcept {
    if constexpr (I::name == Name.view()) {
      return slot<I>();
    } else {
      static_assert(sizeof...(Rest) > 0, "no instance of this system has that name");
      return find_by_name<Name, Rest...>();
    }
  }

  template <class S, class Bus>
  static void tick_one(S& service, Bus& bus) {
    if constexpr (requires { service.tick(bus); }) service.tick(bus);
  }
};

}  // namespace sil::core
