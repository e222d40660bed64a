#pragma once
// Owns the clock and the services of one system, builds the bus that
// connects them (and whatever else the caller attaches, such as the UDP
// bridge), and steps simulated time. It knows nothing about wall time or
// sockets: a realtime loop, a test or a HIL rig decides when step() runs.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "sil/core/control.hpp"
#include "sil/core/state_requests.hpp"
#include "sil/core/faults.hpp"
#include "sil/core/param_table.hpp"
#include "sil/core/system.hpp"
#include "sil/ipc/build_info.hpp"
#include "sil/ipc/catalogue_info.hpp"
#include "sil/ipc/message_bus.hpp"
#include "sil/ipc/sim_clock.hpp"
#include "sil/services/service.hpp"

namespace sil::core {

using ipc::SimClock;

namespace detail {

// The values of an instance's parameters, owned here so the framework can
// change them between ticks; empty for a service without Params.
template <class I, bool = HasParams<typename I::service>>
struct ParamsHolder {};

template <class I>
struct ParamsHolder<I, true> {
  using P = typename I::service::Params;
  static constexpr bool kGivenValues = std::is_same_v<std::remove_cv_t<decltype(I::config)>, const P*>;
  static_assert(std::is_null_pointer_v<decltype(I::config)> || kGivenValues,
                "a service with Params is given its instance's values as a pointer to a constant Params: "
                "sil::Instance<\"name\", Service, &kValues>");
  static constexpr P initial() {
    if constexpr (kGivenValues) {
      return *I::config;
    } else {
      return P{};
    }
  }
  static_assert(params_valid(initial()),
                "a parameter of this instance breaks its declaration: a numeric parameter needs a "
                "sil::range with min <= max that holds its value (docs/parameters.md \"Declaring parameters\")");
  P params_ = initial();
};

// One service instance, constructed with the first form it accepts
// (services/service.hpp).
template <class I>
struct InstanceSlot {
  using S = typename I::service;

  InstanceSlot(const services::ServiceContext& context, ParamsHolder<I>& params)
      : service(make(context, params)) {}

  // A config pointer in the instance, else the class's default Config.
  static constexpr bool kHasConfig =
      !HasParams<S> && (!std::is_null_pointer_v<decltype(I::config)> || requires { typename S::Config; });

  static decltype(auto) config()
    requires kHasConfig
  {
    if constexpr (!std::is_null_pointer_v<decltype(I::config)>) {
      return *I::config;
    } else {
      return typename S::Config{};
    }
  }
  static S make(const services::ServiceContext& context, [[maybe_unused]] ParamsHolder<I>& params) {
    if constexpr (HasParams<S>) {
      using View = sil::Params<typename S::Params>;
      const View view(params.params_);
      if constexpr (std::is_constructible_v<S, const services::ServiceContext&, View>) {
        return S(context, view);
      } else if constexpr (std::is_constructible_v<S, const SimClock&, View>) {
        return S(context.clock, view);
      } else {
        static_assert(std::is_constructible_v<S, View>,
                      "a service with Params takes a sil::Params<Params> in its constructor: "
                      "S(context or clock, sil::Params<Params>) or S(sil::Params<Params>) "
                      "(docs/parameters.md \"Declaring parameters\")");
        return S(view);
      }
    } else if constexpr (kHasConfig) {
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

template <class T>
ipc::ParamValue to_param_value(T value) {
  if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, double>) {
    return value;
  } else if constexpr (std::is_signed_v<T>) {
    return static_cast<std::int64_t>(value);
  } else {
    return static_cast<std::uint64_t>(value);
  }
}

// The catalogue entry of one parameter, and its accessors.
template <class I, class Spec>
ipc::ParamInfo param_info(const Spec& spec) {
  using P = typename I::service::Params;
  const P initial = ParamsHolder<I>::initial();
  ipc::ParamInfo info;
  info.name = std::string(I::name) + "." + std::string(spec.name);
  info.kind = Spec::kind;
  info.default_value = to_param_value(initial.*(Spec::member));
  info.min = to_param_value(spec.min);
  info.max = to_param_value(spec.max);
  info.unit = spec.unit;
  info.description = spec.description;
  info.read_only = spec.read_only;
  info.restart = spec.restart;
  return info;
}

// Calls fn(info, get, set) for each parameter of instance I, in declaration order.
template <class I, class Fn>
void for_each_param(Fn&& fn) {
  if constexpr (HasParams<typename I::service>) {
    using P = typename I::service::Params;
    std::apply(
        [&](const auto&... spec) {
          (fn(param_info<I>(spec),
              +[](const void* values) {
                using Spec = std::remove_cvref_t<decltype(spec)>;
                return to_param_value(static_cast<const P*>(values)->*(Spec::member));
              },
              +[](void* values, const ipc::ParamValue& checked) {
                using Spec = std::remove_cvref_t<decltype(spec)>;
                using Type = typename Spec::Type;
                std::visit([&](auto v) { static_cast<P*>(values)->*(Spec::member) = static_cast<Type>(v); },
                           checked);
              }),
           ...);
        },
        P::params());
  }
}

// The catalogue entries of instance I's counters, in declaration order.
template <class I>
void add_counter_infos(std::vector<ipc::CounterInfo>& out) {
  using S = typename I::service;
  static_assert(HasCounters<S> || !requires { typename S::Counters; },
                "a service with Counters declares them with SIL_COUNTERS and lets the framework read them: "
                "const Counters& counters() const noexcept (docs/counters.md)");
  if constexpr (HasCounters<S>) {
    static_assert(counters_valid<typename S::Counters>(), "every counter of a service needs its own, non-empty name");
    std::apply(
        [&](const auto&... spec) {
          (out.push_back({std::string(I::name) + "." + std::string(spec.name), spec.description}), ...);
        },
        S::Counters::counters());
  }
}

// Instance I's counter values into out[next...], in the order add_counter_infos listed them.
template <class I>
void read_counters(const typename I::service& service, std::span<std::pair<std::string_view, std::uint64_t>> out,
                   std::size_t& next) {
  if constexpr (HasCounters<typename I::service>) {
    const auto& values = service.counters();
    std::apply(
        [&](const auto&... spec) { ((out[next++].second = values.*(std::remove_cvref_t<decltype(spec)>::member)), ...); },
        I::service::Counters::counters());
  }
}

// The clock sits in the first base so it is constructed before any service
// that reads it in its constructor; the parameters in the second, so a
// service's constructor sees the values set before start.
struct ClockHolder {
  ClockHolder(std::uint32_t rate_hz, const ipc::BuildInfo& build, ipc::CatalogueInfo catalogue, bool faults,
              std::span<const std::string_view> instances)
      : clock_(rate_hz),
        build_(build),
        catalogue_(std::move(catalogue)),
        faults_(catalogue_, clock_, faults, instances) {}
  SimClock clock_;
  ipc::BuildInfo build_;
  ipc::CatalogueInfo catalogue_;
  FaultSet faults_;
};

// Every instance's parameter values, and the table over them, with the
// values set before start already applied.
template <class... Is>
struct ParamStore {
  explicit ParamStore(std::span<const ipc::ParamAssignment> start) {
    (add<Is>(), ...);
    if (start.empty()) return;
    const auto errors = table_.set(start, ipc::ParamPhase::before_start);
    if (!errors.empty()) throw ParamError(ParamTable::join(errors));
  }
  ParamStore(const ParamStore&) = delete;  // the table points into values_
  ParamStore& operator=(const ParamStore&) = delete;

  template <class I>
  ParamsHolder<I>& values() noexcept {
    return std::get<ParamsHolder<I>>(values_);
  }

  template <class I>
  void add() {
    if constexpr (HasParams<typename I::service>) {
      void* values = &std::get<ParamsHolder<I>>(values_).params_;
      for_each_param<I>([&](ipc::ParamInfo info, auto get, auto set) {
        table_.add({std::move(info), values, get, set});
      });
    }
  }

  std::tuple<ParamsHolder<Is>...> values_;
  ParamTable table_;
};

template <class S, class... Is>
consteval std::size_t count_of() {
  return (std::size_t{std::is_same_v<typename Is::service, S>} + ... + 0);
}

}  // namespace detail

template <class Spec, class Instances = typename SystemTraits<Spec>::instances>
class Simulation;

template <class Spec, class... Is>
class Simulation<Spec, Services<Is...>> : private detail::ClockHolder,
                                          private detail::ParamStore<Is...>,
                                          private detail::InstanceSlot<Is>... {
 public:
  using System = Spec;
  using Catalogue = typename SystemTraits<Spec>::catalogue;
  static constexpr std::size_t kInstanceCount = sizeof...(Is);
  // What harnesses compare: the messages' and the parameters' hash.
  static constexpr std::uint32_t kHash = SystemTraits<Spec>::hash;
  // Whether the bus has a fault stage (SystemDefaults::fault_injection).
  static constexpr bool kFaultInjection = Spec::fault_injection;

  // `build` is what RevisionService and the ready line report: the build of
  // the system (sil_add_system generates it), not of sil.
  // `params`: set before the first tick and before any service is
  // constructed (--param); a value that breaks a rule throws ParamError.
  explicit Simulation(std::uint32_t rate_hz, const ipc::BuildInfo& build = ipc::kUnknownBuild,
                      std::span<const ipc::ParamAssignment> params = {})
      : detail::ClockHolder(rate_hz, build, catalogue_info(), kFaultInjection, kInstanceNames),
        detail::ParamStore<Is...>(params),
        detail::InstanceSlot<Is>(services::ServiceContext{clock_, Is::name, build_, kHash},
                                 this->template values<Is>())... {}
  Simulation(const Simulation&) = delete;  // services hold a reference to clock_
  Simulation& operator=(const Simulation&) = delete;

  const SimClock& clock() const noexcept { return clock_; }
  const ipc::BuildInfo& build() const noexcept { return build_; }

  // The system's catalogue as data: its messages, its parameters (with each
  // instance's value at start as the default) and kHash.
  static ipc::CatalogueInfo catalogue_info() {
    ipc::CatalogueInfo info = ipc::catalogue_info<Catalogue>();
    info.hash = kHash;
    (detail::for_each_param<Is>([&](ipc::ParamInfo param, auto, auto) { info.params.push_back(std::move(param)); }),
     ...);
    (detail::add_counter_infos<Is>(info.counters), ...);
    return info;
  }

  // Every instance's counters now, as ("<instance>.<counter>", value) in
  // catalogue order (the names point into catalogue()). Read them on the
  // simulation's thread, between ticks: the services increment them
  // without synchronisation.
  std::vector<std::pair<std::string_view, std::uint64_t>> counters() const {
    std::vector<std::pair<std::string_view, std::uint64_t>> out;
    out.reserve(catalogue_.counters.size());
    for (const auto& info : catalogue_.counters) out.emplace_back(info.name, 0);
    std::size_t next = 0;
    (detail::read_counters<Is>(slot<Is>(), out, next), ...);
    return out;
  }

  // The bus's fault stage (an owner that records tells it who injects:
  // FaultStage::set_origin).
  FaultStage<Catalogue>& fault_stage() noexcept { return fault_stage_; }

  // The faults on this simulation's bus. Change them between ticks only.
  FaultSet& faults() noexcept { return faults_; }
  const FaultSet& faults() const noexcept { return faults_; }

  // A recorded control request, again (replay): a set_params, add_fault or
  // remove_fault changes what it changed then; anything else changes no
  // state and is skipped. A request refused then is refused now: the
  // catalogue hash, which the replay checked, covers every rule.
  void replay_control(std::span<const std::byte> request) {
    auto parsed = parse_control(request, catalogue_);
    if (const auto* command = std::get_if<ControlCommand>(&parsed)) (void)answer_state_request(*this, *command, {});
  }

  // catalogue_info(), built once, for whoever answers for this simulation.
  const ipc::CatalogueInfo& catalogue() const noexcept { return catalogue_; }

  // The live parameters. Change them between ticks only.
  ParamTable& params() noexcept { return this->table_; }
  const ParamTable& params() const noexcept { return this->table_; }

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
  static constexpr std::array<std::string_view, sizeof...(Is)> instance_names() noexcept { return kInstanceNames; }

  // The bus over every service plus `extra` subscribers (after the
  // services, so they see a message once the services have reacted), with
  // the fault stage in front when the system has fault injection. The
  // services sit in tick order right after the stage: that is how the stage
  // tells which instance published (FaultStage::pass).
  template <class... Extra>
  auto make_bus(Extra&... extra) {
    if constexpr (kFaultInjection) {
      return ipc::MessageBus<Catalogue, FaultStage<Catalogue>, typename Is::service..., Extra...>(
          fault_stage_, slot<Is>()..., extra...);
    } else {
      return ipc::MessageBus<Catalogue, typename Is::service..., Extra...>(slot<Is>()..., extra...);
    }
  }

  // One tick: delayed messages now due are delivered (faults), then each
  // service's tick() in system order at the current time, then time
  // advances by one period.
  template <class Bus>
  void step(Bus& bus) {
    if constexpr (Bus::kHasGate) bus.gate().release_due(bus);
    tick_all(bus, std::index_sequence_for<Is...>{});
    clock_.advance();
  }

 private:
  template <class I>
  typename I::service& slot() noexcept {
    return static_cast<detail::InstanceSlot<I>&>(*this).service;
  }
  template <class I>
  const typename I::service& slot() const noexcept {
    return static_cast<const detail::InstanceSlot<I>&>(*this).service;
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

  static constexpr std::array<std::string_view, sizeof...(Is)> kInstanceNames{Is::name...};
  FaultStage<Catalogue> fault_stage_{faults_};

  // Each service ticks with the bus as its own subscriber position
  // publishes on it (make_bus: after the stage, if there is one).
  template <class Bus, std::size_t... K>
  void tick_all(Bus& bus, std::index_sequence<K...>) {
    (tick_one(slot<Is>(), bus.template sender<K + (Bus::kHasGate ? 1 : 0)>()), ...);
  }
  template <class S, class Sender>
  static void tick_one(S& service, Sender&& bus) {
    if constexpr (requires { service.tick(bus); }) service.tick(bus);
  }
};

}  // namespace sil::core
