// A HIL rig that owns main() and its loop. One thread (this one) runs the
// system: a timerfd paces the ticks, the harness's socket and the driver's
// readings are read when poll says so, SIGINT/SIGTERM end it. The stand-in
// heater runs on its own thread, as a hardware driver would. Usage:
//
//     hil-rig [--bind ADDR] [--port N] [--rate HZ]
//
// It prints {"event": "ready", "port": N, ...} on stdout once it listens,
// and sil-sim's stopped line on stderr as it stops.
// docs/hil.md "The example rig".
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

#include <sil/app/stopped_line.hpp>
#include <sil/bridge/udp_bridge.hpp>
#include <sil/core/rig_host.hpp>
#include <sil/core/simulation.hpp>

#include "hil_rig/stand_in_heater.hpp"
#include "hil_rig/system.hpp"

const sil::ipc::BuildInfo& sil_generated_build_info() noexcept;  // sil_target_build_info

namespace {

struct Options {
  std::string bind = "127.0.0.1";
  std::uint16_t port = 0;
  std::uint32_t rate_hz = 100;
};

template <class T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<Options> parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) return std::nullopt;
    const std::string_view value = argv[++i];
    if (flag == "--bind") {
      options.bind = std::string(value);
    } else if (flag == "--port") {
      const auto port = parse_number<std::uint16_t>(value);
      if (!port) return std::nullopt;
      options.port = *port;
    } else if (flag == "--rate") {
      const auto rate = parse_number<std::uint32_t>(value);
      if (!rate || *rate == 0 || *rate > 10'000) return std::nullopt;
      options.rate_hz = *rate;
    } else {
      return std::nullopt;
    }
  }
  return options;
}

int check(int result, const char* what) {
  if (result < 0) throw std::system_error(errno, std::generic_category(), what);
  return result;
}

int run(const Options& options) {
  // SIGINT and SIGTERM are read from a descriptor in the loop, not handled
  // asynchronously: the loop stops between two steps, never inside one.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  check(::pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr) == 0 ? 0 : -1, "pthread_sigmask");
  const int signal_fd = check(::signalfd(-1, &stop_signals, SFD_CLOEXEC), "signalfd");

  using Sim = sil::core::Simulation<hil_rig::System>;
  Sim sim(options.rate_hz, sil_generated_build_info());
  sil::bridge::UdpBridge<Sim::Catalogue> bridge({.bind_address = options.bind, .port = options.port});
  std::atomic<double> heater_power_w{0.0};
  hil_rig::HeaterOutput heater{heater_power_w};
  sil::core::RigHost host(sim, bridge,
                          {.log = [](std::string_view line) {
                            std::fprintf(stderr, "hil-rig: %.*s\n", static_cast<int>(line.size()), line.data());
                          }},
                          heater);

  hil_rig::Readings readings;
  hil_rig::StandInHeater stand_in(readings, heater_power_w, options.rate_hz);
  std::jthread driver([&stand_in](std::stop_token stop) { stand_in.run(stop); });

  const int timer_fd = check(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC), "timerfd_create");
  const long period_ns = static_cast<long>(sim.clock().period_ns());
  const itimerspec every{{period_ns / 1'000'000'000, period_ns % 1'000'000'000},
                         {period_ns / 1'000'000'000, period_ns % 1'000'000'000}};
  check(::timerfd_settime(timer_fd, 0, &every, nullptr), "timerfd_settime");

  std::printf("{\"event\": \"ready\", \"port\": %u, \"bind\": \"%s\", \"rate_hz\": %u}\n",
              static_cast<unsigned>(bridge.port()), options.bind.c_str(), options.rate_hz);
  std::fflush(stdout);

  std::array<pollfd, 4> fds{{{timer_fd, POLLIN, 0}, {host.socket_fd(), POLLIN, 0}, {readings.ready_fd(), POLLIN, 0},
                             {signal_fd, POLLIN, 0}}};
  for (;;) {
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "poll");
    }
    if (fds[3].revents != 0) break;
    if (fds[1].revents != 0) host.receive();
    if (fds[2].revents != 0) readings.deliver(host.bus());
    if (fds[0].revents != 0) {
      std::uint64_t expirations = 0;
      if (::read(timer_fd, &expirations, sizeof expirations) == sizeof expirations) {
        // One tick per wakeup; periods the loop missed are overruns, not a burst.
        if (expirations > 1) host.count_overrun();
        host.tick();
      }
    }
  }
  driver.request_stop();
  driver.join();
  ::close(timer_fd);
  ::close(signal_fd);
  std::fprintf(stderr, "hil-rig: %llu driver reading(s) dropped\n",
               static_cast<unsigned long long>(readings.dropped()));
  // The same stopped line as sil-sim's, so the same tools read it.
  std::fprintf(stderr, "%s\n",
               sil::app::stopped_line(bridge.stats(), sim.clock().tick(), host.overruns(), sim.counters()).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = parse(argc, argv);
  if (!options) {
    std::fprintf(stderr, "usage: hil-rig [--bind ADDR] [--port N] [--rate HZ(1-10000)]\n");
    return 2;
  }
  try {
    return run(*options);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hil-rig: %s\n", e.what());
    return 1;
  }
}
