#pragma once
// Bounded waits. The deadline only keeps a broken build from hanging the
// suite; no test depends on how quickly anything happens.
#include <poll.h>

#include <chrono>
#include <thread>

#include "loopback_client.hpp"

namespace sil::test {

// Polls pred (cheaply, with a short sleep) until it holds or the deadline passes.
template <class Pred>
bool wait_until(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + kGenerousDeadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

// The simulation thread's side of a bridge: waits on the inbound fd and
// delivers onto bus until done() holds or the deadline passes. Allocates
// nothing.
template <class Bridge, class Bus, class Done>
bool deliver_until(Bridge& bridge, Bus& bus, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + kGenerousDeadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    pollfd fds{bridge.inbound_ready_fd(), POLLIN, 0};
    if (::poll(&fds, 1, 50) > 0) bridge.deliver_inbound(bus);
  }
  return true;
}

}  // namespace sil::test
