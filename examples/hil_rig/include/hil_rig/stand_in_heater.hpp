#pragma once
// A stand-in for the rig's hardware: a heater and a temperature sensor,
// driven from their own thread in wall time as a real driver would be. It
// reads the commanded power (written by the simulation thread, one atomic
// word) and posts a PlantTemperature reading every period through the
// DriverInbox, the one channel into the simulation thread. The physics is
// the thermal example's HeaterPlant, on a clock of the driver's own.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <stop_token>
#include <thread>

#include <sil/core/driver_inbox.hpp>
#include <sil/ipc/sim_clock.hpp>

#include "hil_rig/system.hpp"
#include "thermal/heater_plant.hpp"

namespace hil_rig {

using Catalogue = sil::SystemTraits<System>::catalogue;
using Readings = sil::core::DriverInbox<Catalogue>;

// Bus subscriber on the rig: the heater command goes to the hardware.
struct HeaterOutput {
  std::atomic<double>& power_w;
  void on(const thermal::HeaterCommand& command) noexcept { power_w.store(command.power_w, std::memory_order_relaxed); }
};

class StandInHeater {
 public:
  StandInHeater(Readings& readings, std::atomic<double>& power_w, std::uint32_t rate_hz)
      : readings_(readings), power_w_(power_w), clock_(rate_hz), plant_(clock_) {}

  // The driver thread's loop: one reading per period, on absolute deadlines.
  void run(std::stop_token stop) {
    const auto period = std::chrono::nanoseconds(clock_.period_ns());
    auto next = std::chrono::steady_clock::now();
    Poster poster{readings_};
    while (!stop.stop_requested()) {
      plant_.on(thermal::HeaterCommand{.power_w = power_w_.load(std::memory_order_relaxed)});
      plant_.tick(poster);
      clock_.advance();
      next += period;
      std::this_thread::sleep_until(next);
    }
  }

 private:
  // HeaterPlant publishes; on this thread, publishing means posting.
  struct Poster {
    Readings& readings;
    template <class T>
    void publish(const T& message) {
      readings.post(message);
    }
  };

  Readings& readings_;
  std::atomic<double>& power_w_;
  sil::SimClock clock_;
  thermal::HeaterPlant plant_;
};

}  // namespace hil_rig
