#pragma once
// Owns the clock and the services, builds the bus that connects them (and
// whatever else the caller attaches, such as the UDP bridge), and steps
// simulated time. It knows nothing about wall time or sockets: a realtime
// loop, a test or a HIL rig decides when step() runs.
#include <cstdint>
#include <type_traits>

#include "sil/ipc/message_bus.hpp"
#include "sil/services/registry.hpp"
#include "sil/services/sim_clock.hpp"

namespace sil::core {

using services::SimClock;

namespace detail {

// A service is constructed from the clock when it takes one, else by default.
template <class S>
struct ServiceSlot {
  explicit ServiceSlot(const SimClock& clock) : service(make(clock)) {}
  static S make(const SimClock& clock) {
    if constexpr (std::is_constructible_v<S, const SimClock&>) {
      return S(clock);
    } else {
      return S();
    }
  }
  S service;
};

// The clock sits in the first base so it is constructed before any service
// that reads it in its constructor.
struct ClockHolder {
  explicit ClockHolder(std::uint32_t rate_hz) : clock_(rate_hz) {}
  SimClock clock_;
};

}  // namespace detail

template <class... Services>
class Simulation : private detail::ClockHolder, private detail::ServiceSlot<Services>... {
 public:
  explicit Simulation(std::uint32_t rate_hz)
      : detail::ClockHolder(rate_hz), detail::ServiceSlot<Services>(clock_)... {}
  Simulation(const Simulation&) = delete;  // services hold a reference to clock_
  Simulation& operator=(const Simulation&) = delete;

  const SimClock& clock() const noexcept { return clock_; }

  template <class S>
  S& service() noexcept {
    return static_cast<detail::ServiceSlot<S>&>(*this).service;
  }

  // The bus over every service plus `extra` subscribers (after the
  // services, so they see a message once the services have reacted).
  template <class... Extra>
  ipc::MessageBus<Services..., Extra...> make_bus(Extra&... extra) {
    return ipc::MessageBus<Services..., Extra...>(service<Services>()..., extra...);
  }

  // One tick: each service's tick() in registration order at the current
  // time, then time advances by one period.
  template <class Bus>
  void step(Bus& bus) {
    (tick_one(service<Services>(), bus), ...);
    clock_.advance();
  }

 private:
  template <class S, class Bus>
  static void tick_one(S& service, Bus& bus) {
    if constexpr (requires { service.tick(bus); }) service.tick(bus);
  }
};

template <class List>
struct SimulationOf;
template <class... Services>
struct SimulationOf<services::ServiceList<Services...>> {
  using type = Simulation<Services...>;
};

// The simulation sil-sim runs: every registered service.
using DefaultSimulation = typename SimulationOf<services::RegisteredServices>::type;

}  // namespace sil::core
