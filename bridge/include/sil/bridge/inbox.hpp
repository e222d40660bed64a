#pragma once
// The one channel between the bridge's rx thread (producer) and the
// simulation thread (consumer): a bounded single-producer/single-consumer
// ring of preallocated slots plus an eventfd the consumer can wait on. No
// allocation after construction; no locks; each side publishes its progress
// with one release store per batch, not per message.
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <system_error>
#include <utility>

namespace sil::bridge {

template <class T, std::size_t Capacity>
class SpscInbox {
  static_assert(Capacity >= 2 && (Capacity & (Capacity - 1)) == 0, "capacity must be a power of two");

 public:
  SpscInbox() : slots_(std::make_unique<std::array<T, Capacity>>()) {
    event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (event_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  }
  ~SpscInbox() { ::close(event_fd_); }
  SpscInbox(const SpscInbox&) = delete;
  SpscInbox& operator=(const SpscInbox&) = delete;

  static constexpr std::size_t capacity() noexcept { return Capacity; }

  // Producer: the next free slot to fill in place, or nullptr when full
  // (the caller counts the drop). The slot holds stale data; commit() it to
  // keep it, or don't, to leave it free.
  T* claim() noexcept {
    if (pending_head_ - cached_tail_ == Capacity) {
      cached_tail_ = tail_.load(std::memory_order_acquire);
      if (pending_head_ - cached_tail_ == Capacity) return nullptr;
    }
    return &(*slots_)[pending_head_ & (Capacity - 1)];
  }

  // Producer: true when more than `reserve` slots are free, a claimed but
  // uncommitted one included. Like claim(), it reads the consumer's index
  // only when the last one it saw says there may not be: the cached index
  // is never ahead of the real one, so "enough room" from it is true.
  bool free_beyond(std::size_t reserve) noexcept {
    if (Capacity - (pending_head_ - cached_tail_) > reserve) return true;
    cached_tail_ = tail_.load(std::memory_order_acquire);
    return Capacity - (pending_head_ - cached_tail_) > reserve;
  }

  // Producer: keeps the claimed slot. Not visible to the consumer until publish().
  void commit() noexcept { ++pending_head_; }

  // Producer: claim + copy + commit. False when full.
  bool try_push(const T& value) noexcept {
    T* slot = claim();
    if (slot == nullptr) return false;
    *slot = value;
    commit();
    return true;
  }

  // Producer: makes every pushed value visible and wakes the consumer.
  void publish() noexcept {
    if (pending_head_ == head_.load(std::memory_order_relaxed)) return;
    head_.store(pending_head_, std::memory_order_release);
    const std::uint64_t one = 1;
    // The counter saturating (EAGAIN) still leaves the fd readable, which is
    // all the consumer needs.
    [[maybe_unused]] const auto written = ::write(event_fd_, &one, sizeof one);
  }

  // Consumer: readable when values may be waiting. Wait on it, then call drain().
  int ready_fd() const noexcept { return event_fd_; }

  // Consumer: passes every visible value, in push order, to fn (by const
  // reference into the slot: no copy), then frees the slots. Returns the count.
  template <class Fn>
  std::size_t drain(Fn&& fn) {
    std::uint64_t counter = 0;
    // Reset the wakeup before reading head_: a push published after this
    // read sets it again, so no wakeup is lost.
    [[maybe_unused]] const auto read = ::read(event_fd_, &counter, sizeof counter);
    return drain_pending(std::forward<Fn>(fn));
  }

  // Consumer: like drain() but leaves the wakeup alone, so an empty inbox
  // costs one atomic load and no syscall. For a consumer that polls between
  // ticks; the fd may stay readable, and its next drain() resets it.
  template <class Fn>
  std::size_t drain_pending(Fn&& fn) {
    const std::uint64_t head = head_.load(std::memory_order_acquire);
    std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    const std::size_t count = head - tail;
    for (; tail != head; ++tail) fn(static_cast<const T&>((*slots_)[tail & (Capacity - 1)]));
    tail_.store(tail, std::memory_order_release);
    return count;
  }

 private:
  std::unique_ptr<std::array<T, Capacity>> slots_;
  int event_fd_ = -1;
  // Producer and consumer indices on separate cache lines.
  alignas(64) std::atomic<std::uint64_t> head_{0};
  std::uint64_t pending_head_ = 0;  // producer only
  std::uint64_t cached_tail_ = 0;   // producer only
  alignas(64) std::atomic<std::uint64_t> tail_{0};
};

}  // namespace sil::bridge
