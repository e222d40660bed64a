#pragma once
// The one way a thread other than the simulation thread hands a message to
// the bus: a hardware driver's thread posts readings, the simulation thread
// (the rig's loop) publishes them, in the order posted, at the point of its
// loop it chooses. The bus itself stays single-threaded.
//
// One producer thread per inbox (give each driver thread its own); the
// channel is bridge::SpscInbox: preallocated and lock-free. Each post is
// one release store and one eventfd write (a syscall on the driver's
// thread, so the rig's loop can sleep in poll() on ready_fd() and still
// hear of every reading at once); the simulation thread's deliver() reads
// the eventfd once per batch.
// docs/hil.md "Handing readings to the simulation".
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <variant>

#include "sil/bridge/inbox.hpp"
#include "sil/ipc/catalogue.hpp"
#include "sil/ipc/message.hpp"

namespace sil::core {

template <ipc::AnyCatalogue C, std::size_t Capacity = 256>
class DriverInbox {
 public:
  // Driver thread: queues a copy of `message` and wakes the reader. False
  // (and counted in dropped()) when the inbox is full: the simulation thread
  // is not keeping up, and a driver must never block on it.
  template <ipc::Message T>
  bool post(const T& message) noexcept {
    static_assert(C::template contains<T>, "this message is not in the system's catalogue");
    typename C::Any* slot = inbox_.claim();
    if (slot == nullptr) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    slot->template emplace<T>(message);
    inbox_.commit();
    inbox_.publish();
    return true;
  }

  // Simulation thread: publishes everything posted so far, in order.
  // Returns how many messages it published.
  template <class Bus>
  std::size_t deliver(Bus& bus) {
    return inbox_.drain([&bus](const typename C::Any& item) {
      std::visit([&bus](const auto& message) { bus.publish(message); }, item);
    });
  }

  // Readable while posted messages wait for deliver().
  int ready_fd() const noexcept { return inbox_.ready_fd(); }
  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

 private:
  bridge::SpscInbox<typename C::Any, Capacity> inbox_;
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace sil::core
