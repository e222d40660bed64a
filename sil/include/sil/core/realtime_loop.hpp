#pragma once
// Runs a simulation against the wall clock on one asio io_context (the
// simulation thread): a tick every 1/rate seconds at absolute deadlines, so
// the schedule does not drift, and inbound messages delivered as soon as
// they arrive, between ticks, so a request never waits for the next tick.
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <system_error>

#include "sil/services/sim_clock.hpp"

namespace sil::core {

// Inbound: anything with inbound_ready_fd() and deliver_inbound(bus), such
// as bridge::UdpBridge.
template <class Sim, class Bus, class Inbound>
class RealtimeLoop {
 public:
  using Clock = std::chrono::steady_clock;
  // Further behind than this, the loop stops trying to catch up and
  // restarts its schedule from now, counting an overrun.
  static constexpr int kMaxLagTicks = 10;

  RealtimeLoop(boost::asio::io_context& io, Sim& sim, Bus& bus, Inbound& inbound)
      : sim_(sim),
        bus_(bus),
        inbound_(inbound),
        timer_(io),
        inbound_ready_(io, dup_or_throw(inbound.inbound_ready_fd())),
        period_(std::chrono::nanoseconds(sim.clock().period_ns())) {}

  void start() {
    next_tick_ = Clock::now();
    arm_timer();
    wait_inbound();
  }

  std::uint64_t overruns() const noexcept { return overruns_; }

 private:
  static int dup_or_throw(int fd) {
    const int copy = ::dup(fd);  // the descriptor object closes its own copy
    if (copy < 0) throw std::system_error(errno, std::generic_category(), "dup");
    return copy;
  }

  void arm_timer() {
    timer_.expires_at(next_tick_);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      sim_.step(bus_);
      next_tick_ += period_;
      const auto now = Clock::now();
      if (now - next_tick_ > kMaxLagTicks * period_) {
        ++overruns_;
        next_tick_ = now;
      }
      arm_timer();
    });
  }

  void wait_inbound() {
    inbound_ready_.async_wait(boost::asio::posix::descriptor_base::wait_read,
                              [this](const boost::system::error_code& ec) {
                                if (ec) return;
                                inbound_.deliver_inbound(bus_);
                                wait_inbound();
                              });
  }

  Sim& sim_;
  Bus& bus_;
  Inbound& inbound_;
  boost::asio::steady_timer timer_;
  boost::asio::posix::stream_descriptor inbound_ready_;
  Clock::duration period_;
  Clock::time_point next_tick_{};
  std::uint64_t overruns_ = 0;
};

}  // namespace sil::core
