#pragma once
// Runs a simulation against the wall clock on one asio io_context (the
// simulation thread): tick k starts at start + (simulated time of tick k),
// so wall and simulated time never drift apart, and inbound messages are
// delivered as soon as they arrive, between ticks, so a request never waits
// for the next tick.
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
        inbound_ready_(io, dup_or_throw(inbound.inbound_ready_fd())) {}

  void start() {
    epoch_ = Clock::now();
    epoch_ns_ = sim_.clock().now_ns();
    next_tick_ = epoch_;
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
      next_tick_ = epoch_ + std::chrono::nanoseconds(sim_.clock().now_ns() - epoch_ns_);
      const auto now = Clock::now();
      if (now - next_tick_ > kMaxLagTicks * std::chrono::nanoseconds(sim_.clock().period_ns())) {
        // Hopelessly behind: restart the schedule from here instead of
        // running a burst of ticks to catch up.
        ++overruns_;
        epoch_ = now;
        epoch_ns_ = sim_.clock().now_ns();
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
  Clock::time_point epoch_{};  // wall time at which simulated time was epoch_ns_
  std::uint64_t epoch_ns_ = 0;
  Clock::time_point next_tick_{};
  std::uint64_t overruns_ = 0;
};

}  // namespace sil::core
