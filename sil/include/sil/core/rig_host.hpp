#pragma once
// A system inside a program that owns main() and its own loop: a HIL rig.
// The rig decides when a tick runs (its timer, its hardware) and reads the
// harness's socket on its own thread, in its own loop; no thread is started
// here and nothing is printed (remarks go to the LogSink).
//
//     sil::core::Simulation<MySystem> sim(rate_hz, build);
//     sil::bridge::UdpBridge<Catalogue> bridge(config);
//     sil::core::RigHost host(sim, bridge, {.log = my_log});
//     for (;;) {                     // the rig's loop: poll host.socket_fd(),
//       host.receive();              //   drivers.ready_fd(), its timerfd ...
//       drivers.deliver(host.bus()); // readings handed over by driver threads
//       if (tick_due) host.tick();
//     }
//
// The control plane answers Hello, GetStats and GetCatalogue from the rig's
// loop exactly as sil-sim does. The rig's clock is its own: Advance, Pause,
// Resume and SetSpeed are refused with WRONG_CLOCK and a reason, and
// replies report the realtime clock. docs/hil.md "Embedding in a HIL rig".
#include <cstdint>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <variant>

#include "sil/bridge/bridge_core.hpp"
#include "sil/core/control.hpp"
#include "sil/core/control_plane.hpp"

namespace sil::core {

struct RigConfig {
  LogSink log;  // empty: remarks are dropped
};

// Extra: more bus subscribers the rig attaches (its actuator outputs, a
// recorder); they see every publication after the services. An Extra that
// declares on_control_request(span) / on_control_reply(span) also sees the
// control plane's bytes, as under SimHost.
template <class Sim, class Bridge, class... Extra>
class RigHost {
 public:
  using Catalogue = typename Sim::Catalogue;

  RigHost(Sim& sim, Bridge& bridge, RigConfig config, Extra&... extra)
      : sim_(sim),
        bridge_(bridge),
        control_(sim, bridge, std::move(config.log), extra...),
        bus_(sim.make_bus(control_.watch(), control_.digest(), control_.published(), extra..., bridge)) {}
  RigHost(const RigHost&) = delete;
  RigHost& operator=(const RigHost&) = delete;

  auto& bus() noexcept { return bus_; }
  const Sim& sim() const noexcept { return sim_; }
  // Readable when the harness has sent something: put it in the rig's poll.
  int socket_fd() const noexcept { return bridge_.socket_fd(); }

  // Reads everything waiting on the socket (never blocks): messages are
  // published at once, in arrival order; control requests are answered.
  // Returns how many items were handled.
  std::size_t receive() {
    std::size_t handled = 0;
    for (;;) {
      const std::size_t batch = bridge_.receive_direct(bus_, [this](const bridge::ControlFrame& f) { on_control(f); });
      bridge_.flush();  // what services published in answer to it
      handled += batch;
      if (batch == 0) return handled;
    }
  }

  // Under a peer idle timeout (BridgeConfig::peer), drops the peer once it
  // has been silent that long, even while nobody sends. Returns the ms until
  // it is next due (-1: never, for now): the loop's poll timeout, at most.
  int expire_idle_peer() { return bridge_.expire_idle_peer(); }

  // One tick of every service, and what it published leaves.
  void tick() {
    sim_.step(bus_);
    bridge_.flush();
  }

  // The rig counts its own overruns (a tick that started late, by its rules).
  void count_overrun() noexcept { ++overruns_; }
  std::uint64_t overruns() const noexcept { return overruns_; }

  HostStatus status() const noexcept {
    return {ClockMode::realtime, sim_.clock().rate_hz(), 1.0, false, sim_.clock().now_ns(), sim_.clock().tick()};
  }
  StatsSnapshot stats() const { return control_.stats(overruns_); }
  const TraceDigest& trace() const noexcept { return control_.trace(); }

 private:
  void on_control(const bridge::ControlFrame& frame) {
    if (auto command = control_.handle(frame, status(), overruns_)) {
      control_.fail(frame.sender,
                    {command->sequence, ControlErrorCode::wrong_clock,
                     std::string(name_of(command->action)) +
                         ": this rig runs its own loop in wall time; it does not advance, pause, resume or change "
                         "speed on request"},
                    status());
    }
  }

  static const char* name_of(const ControlAction& action) noexcept {
    if (std::holds_alternative<AdvanceCommand>(action)) return "advance";
    if (std::holds_alternative<PauseCommand>(action)) return "pause";
    if (std::holds_alternative<ResumeCommand>(action)) return "resume";
    if (std::holds_alternative<SetSpeedCommand>(action)) return "set_speed";
    return "this command";
  }

  Sim& sim_;
  Bridge& bridge_;
  ControlPlane<Sim, Bridge, Extra...> control_;
  decltype(std::declval<Sim&>().make_bus(std::declval<Watch&>(), std::declval<TraceDigest&>(),
                                         std::declval<PublishCounter<Catalogue>&>(), std::declval<Extra&>()...,
                                         std::declval<Bridge&>())) bus_;
  std::uint64_t overruns_ = 0;
};

}  // namespace sil::core
