#pragma once
// Runs a simulation on one asio io_context (the simulation thread) under one
// of three clocks, and answers the control plane:
//  - realtime: tick k starts at epoch + sim_time(k) / speed on the steady
//    clock; inbound messages are published the moment they arrive.
//  - fast: ticks back to back, in batches posted to the io_context so
//    signals and control requests are still handled between batches.
//  - step: ticks run only when an Advance request asks, in the same batches.
//    What arrives during an Advance is read after its reply, in arrival
//    order, whatever the timing.
// Under the realtime and step clocks the simulation thread reads the socket
// itself (receives_on_sim_thread): one epoll wait covers the socket and the
// next tick's timer, so a request costs one wakeup, not two (an rx thread
// would wake the simulation thread through an eventfd, and that wakeup is
// not a synchronous one: the kernel puts the woken thread on the other CPU).
// The fast clock keeps the rx thread: it looks for input at every tick
// boundary, where an empty inbox costs a memory read and an empty socket a
// syscall (docs/performance.md "Realtime round trip").
// In every clock an inbound item (message or control request) is handled at
// a tick boundary, in arrival order; services tick in registration order.
// Nothing here allocates per tick or per message; control requests may.
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "sil/bridge/udp_bridge.hpp"
#include "sil/core/advance.hpp"
#include "sil/core/control.hpp"
#include "sil/core/control_plane.hpp"
#include "sil/core/publish_counter.hpp"
#include "sil/core/trace_digest.hpp"
#include "sil/core/watch.hpp"
#include "sil/ipc/catalogue_info.hpp"

namespace sil::core {

struct HostConfig {
  ClockMode clock = ClockMode::realtime;
  double speed = 1.0;  // realtime only
  LogSink log{};       // empty: remarks are dropped
};

// Extra: more bus subscribers the owner attaches (a HIL rig's own sinks, a
// test's witness, a recorder); they see every publication after the
// services. An Extra that declares on_control_request(span) or
// on_control_reply(span) also sees each control request's and reply's
// serialized bytes, in order with the messages.
template <class Sim, class Bridge, class... Extra>
class SimHost {
 public:
  using Clock = std::chrono::steady_clock;
  // Ticks per posted batch in the fast and step clocks: long enough that the
  // post costs nothing per tick, short enough (well under a millisecond at
  // typical service loads) that a signal or a request never waits long.
  static constexpr std::uint64_t kBatchTicks = 1024;
  // Further behind than this, the realtime clock stops trying to catch up
  // and restarts its schedule from now, counting an overrun.
  static constexpr std::uint64_t kMaxLagTicks = 10;

  using Catalogue = typename Sim::Catalogue;
  static_assert(std::is_same_v<Catalogue, typename Bridge::Catalogue>, "the bridge serves another system");

  SimHost(boost::asio::io_context& io, Sim& sim, Bridge& bridge, HostConfig config, Extra&... extra)
      : io_(io),
        sim_(sim),
        bridge_(bridge),
        config_(std::move(config)),
        control_(sim, bridge, config_.log, extra...),
        bus_(sim.make_bus(control_.watch(), control_.digest(), control_.published(), extra..., bridge)),
        timer_(io),
        expiry_timer_(io),
        readable_(io, dup_or_throw(receives_on_sim_thread() ? bridge.socket_fd() : bridge.inbound_ready_fd())) {}
  SimHost(const SimHost&) = delete;
  SimHost& operator=(const SimHost&) = delete;

  // True for the step clock: the owner must then not run the bridge's rx
  // thread, because this host receives on the simulation thread.
  bool receives_on_sim_thread() const noexcept { return config_.clock != ClockMode::fast; }

  void start() {
    wait_inbound();
    if (config_.clock == ClockMode::realtime) restart_schedule();
    if (config_.clock == ClockMode::fast) post_fast_batch();
  }

  HostStatus status() const noexcept {
    return {config_.clock, sim_.clock().rate_hz(), config_.speed, paused_, sim_.clock().now_ns(),
            sim_.clock().tick()};
  }
  std::uint64_t overruns() const noexcept { return overruns_; }
  std::uint64_t control_requests() const noexcept { return control_.requests(); }
  std::uint64_t control_errors() const noexcept { return control_.errors(); }
  const TraceDigest& trace() const noexcept { return control_.trace(); }
  const ipc::CatalogueInfo& catalogue() const noexcept { return control_.catalogue(); }
  auto& bus() noexcept { return bus_; }

  StatsSnapshot stats() const { return control_.stats(overruns_); }

 private:
  static int dup_or_throw(int fd) {
    const int copy = ::dup(fd);  // the descriptor object closes its own copy
    if (copy < 0) throw std::system_error(errno, std::generic_category(), "dup");
    return copy;
  }

  // -- inbound ----------------------------------------------------------

  void wait_inbound() {
    readable_.async_wait(boost::asio::posix::descriptor_base::wait_read,
                              [this](const boost::system::error_code& ec) {
                                if (ec) return;
                                if (config_.clock == ClockMode::step) {
                                  receive_until_advance();
                                  return;
                                }
                                if (receives_on_sim_thread()) {
                                  // One batch per wakeup: a flood cannot hold
                                  // off a tick that is due, and what is left
                                  // makes the socket readable again at once.
                                  bridge_.receive_direct(bus_, control_handler());
                                  watch_peer_expiry();
                                } else {
                                  bridge_.deliver_inbound(bus_, control_handler());
                                }
                                flush();
                                wait_inbound();
                              });
  }

  // Under --peer-idle-timeout, drops a silent peer even while nobody sends
  // (with an rx thread, its poll timeout does this). Armed once at a time:
  // a peer heard from since only moves the deadline later, so a timer that
  // fires early just looks again.
  void watch_peer_expiry() {
    if (expiry_armed_) return;
    const int wait_ms = bridge_.expire_idle_peer();
    if (wait_ms < 0) return;  // no timeout, or no peer to lose
    expiry_armed_ = true;
    expiry_timer_.expires_after(std::chrono::milliseconds(wait_ms));
    expiry_timer_.async_wait([this](const boost::system::error_code& ec) {
      expiry_armed_ = false;
      if (!ec) watch_peer_expiry();
    });
  }

  // Step clock: handles what waits on the socket until an Advance starts,
  // then runs it; reading resumes once its reply has gone out.
  void receive_until_advance() {
    for (;;) {
      const std::size_t handled =
          bridge_.receive_direct(bus_, control_handler(), [this] { return advance_.has_value(); });
      flush();  // what services published in answer to what was received
      watch_peer_expiry();
      if (advance_) {
        continue_advance();
        return;
      }
      if (handled == 0) break;  // the socket is empty: sleep until it is not
    }
    wait_inbound();
  }

  // Between ticks inside a batch: no syscall when nothing is waiting.
  void deliver_pending() { bridge_.deliver_pending(bus_, control_handler()); }

  // Batched egress: what was published since the last call leaves now. The
  // end of every tick and of every inbound delivery calls it; control
  // replies flush first by themselves.
  void flush() {
    if constexpr (requires(Bridge& b) { b.flush(); }) bridge_.flush();
  }
  void step() {
    sim_.step(bus_);
    flush();
  }

  auto control_handler() {
    return [this](const bridge::ControlFrame& frame) { on_control(frame); };
  }

  // -- realtime ---------------------------------------------------------

  void restart_schedule() {
    epoch_ = Clock::now();
    epoch_ns_ = sim_.clock().now_ns();
    arm_timer(epoch_);
  }

  void arm_timer(Clock::time_point at) {
    timer_.expires_at(at);  // also cancels a wait already pending
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec || paused_) return;
      step();
      const double sim_ahead_ns = static_cast<double>(sim_.clock().now_ns() - epoch_ns_) / config_.speed;
      const auto next = epoch_ + std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(sim_ahead_ns)));
      const auto lag = Clock::now() - next;
      const auto period = std::chrono::nanoseconds(sim_.clock().period_ns());
      if (lag > static_cast<std::int64_t>(kMaxLagTicks) * period / config_.speed) {
        ++overruns_;
        restart_schedule();
        return;
      }
      arm_timer(next);
    });
  }

  // -- fast and step ----------------------------------------------------

  void post_fast_batch() {
    boost::asio::post(io_, [this] {
      for (std::uint64_t i = 0; i < kBatchTicks && !paused_; ++i) {
        deliver_pending();
        if (paused_) break;  // a Pause request in the inbox stops here
        step();
      }
      if (!paused_) post_fast_batch();
    });
  }

  // Runs one batch of the advance now (a one-tick advance costs no extra
  // turn of the event loop), the rest in posted batches so signals are still
  // handled; then replies and goes back to reading the socket.
  void continue_advance() {
    // Nothing is read while an advance runs, so there is nothing to deliver
    // at its tick boundaries; each one sends the tick before it (the reply
    // sends the last).
    if (!advance_->run(sim_, bus_, [this] { flush(); }, kBatchTicks)) {
      boost::asio::post(io_, [this] { continue_advance(); });
      return;
    }
    Watch& watch = control_.watch();
    const AdvanceOutcome outcome{advance_->ticks_run(), advance_->matched(), watch.payload(), watch.matched_at_ns()};
    reply(advance_sender_, encode_advanced(advance_sequence_, status(), outcome));
    watch.disarm();
    advance_.reset();
    receive_until_advance();
  }

  // -- control ----------------------------------------------------------

  void reply(std::uint64_t to, const std::string& bytes) { control_.reply(to, bytes); }
  void fail(std::uint64_t to, ControlError error) { control_.fail(to, std::move(error), status()); }

  void on_control(const bridge::ControlFrame& frame) {
    if (auto command = control_.handle(frame, status(), overruns_)) {
      std::visit([&](const auto& action) { execute(frame.sender, command->sequence, action); }, command->action);
    }
  }

  // Hello, GetStats, GetCatalogue, parameters and faults are the control
  // plane's; it never returns them.
  template <class Answered>
  void execute(std::uint64_t, std::uint32_t, const Answered&) {}

  void execute(std::uint64_t from, std::uint32_t seq, const AdvanceCommand& advance) {
    if (!require_clock(from, seq, config_.clock == ClockMode::step, "advance", "the step clock")) return;
    // The step clock reads nothing while an advance runs, so a second
    // Advance can only come after the first one's reply.
    const std::uint64_t ticks = advance.ticks != 0 ? advance.ticks : ticks_for(sim_.clock(), advance.duration_ns);
    if (advance.until) control_.watch().arm(*advance.until, sim_.clock().now_ns());
    advance_.emplace(ticks, advance.until ? &control_.watch() : nullptr);
    advance_sender_ = from;
    advance_sequence_ = seq;
    // receive_until_advance() sees advance_ and runs it after this item.
  }

  void execute(std::uint64_t from, std::uint32_t seq, const PauseCommand&) {
    if (!require_clock(from, seq, config_.clock != ClockMode::step, "pause", kFreeRunning)) return;
    paused_ = true;
    timer_.cancel();
    reply(from, encode_ack(seq, status()));
  }

  void execute(std::uint64_t from, std::uint32_t seq, const ResumeCommand&) {
    if (!require_clock(from, seq, config_.clock != ClockMode::step, "resume", kFreeRunning)) return;
    if (paused_) {
      paused_ = false;
      if (config_.clock == ClockMode::realtime) restart_schedule();
      if (config_.clock == ClockMode::fast) post_fast_batch();
    }
    reply(from, encode_ack(seq, status()));
  }

  void execute(std::uint64_t from, std::uint32_t seq, const SetSpeedCommand& set) {
    if (!require_clock(from, seq, config_.clock == ClockMode::realtime, "set_speed", "the realtime clock")) return;
    config_.speed = set.speed;
    if (!paused_) restart_schedule();  // the new speed applies from now on
    reply(from, encode_ack(seq, status()));
  }

  // The step clock only moves on advance; pause and resume are for the others.
  static constexpr const char* kFreeRunning = "the realtime or fast clock";

  // Answers WRONG_CLOCK, naming what the command needs, unless `ok`.
  bool require_clock(std::uint64_t from, std::uint32_t seq, bool ok, const char* command, const char* needs) {
    if (ok) return true;
    fail(from, {seq, ControlErrorCode::wrong_clock,
                std::string(command) + " needs " + needs + "; this sim runs the " +
                    std::string(to_string(config_.clock)) + " clock"});
    return false;
  }

  boost::asio::io_context& io_;
  Sim& sim_;
  Bridge& bridge_;
  HostConfig config_;
  ControlPlane<Sim, Bridge, Extra...> control_;
  decltype(std::declval<Sim&>().make_bus(std::declval<Watch&>(), std::declval<TraceDigest&>(),
                                         std::declval<PublishCounter<Catalogue>&>(), std::declval<Extra&>()...,
                                         std::declval<Bridge&>())) bus_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer expiry_timer_;  // the idle peer's deadline, when receiving here
  bool expiry_armed_ = false;
  // What the simulation thread sleeps on between ticks: the socket itself,
  // or under the fast clock the inbox's eventfd.
  boost::asio::posix::stream_descriptor readable_;

  bool paused_ = false;
  Clock::time_point epoch_{};  // wall time at which simulated time was epoch_ns_
  std::uint64_t epoch_ns_ = 0;
  std::uint64_t overruns_ = 0;

  std::optional<AdvanceRun> advance_;
  std::uint64_t advance_sender_ = 0;
  std::uint32_t advance_sequence_ = 0;

};

}  // namespace sil::core
