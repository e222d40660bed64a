#pragma once
// The one channel between the simulation thread (producer: the Recorder)
// and the recording's writer thread (consumer: the Writer). A
// single-producer/single-consumer ring of bytes, allocated once: each entry
// is a fixed header (times, MsgId, direction, size) followed by its payload,
// so a 65-byte message takes 96 bytes and a rare multi-kilobyte control
// reply fits too. Pushing never allocates, blocks or makes a syscall: a full
// ring drops the entry and counts it.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>

namespace sil::record {

// Mirrors sil.record.Direction (sil_record.proto); checked where Records are encoded.
enum class MessageDirection : std::uint8_t { published = 0, injected = 1, control_request = 2, control_reply = 3 };

struct EntryMeta {
  std::uint64_t sim_time_ns = 0;
  std::uint64_t wall_ns = 0;
  std::uint32_t size = 0;  // payload bytes that follow
  std::uint16_t msg_id = 0;
  MessageDirection direction = MessageDirection::published;
  std::uint8_t reserved = 0;
};
static_assert(sizeof(EntryMeta) == 24);

class RecordQueue {
 public:
  // Entries start on this alignment, so the space left before the end of the
  // ring is always either zero or room for a wrap marker.
  static constexpr std::size_t kAlign = 32;

  // capacity_bytes: a power of two, at least 4 KiB. A payload larger than a
  // quarter of it is never queued (counted as dropped).
  explicit RecordQueue(std::size_t capacity_bytes)
      : capacity_(capacity_bytes), storage_(std::make_unique<std::byte[]>(capacity_bytes)) {
    if (capacity_bytes < 4096 || (capacity_bytes & (capacity_bytes - 1)) != 0) {
      throw std::invalid_argument("RecordQueue: the capacity must be a power of two of at least 4096 bytes");
    }
  }
  RecordQueue(const RecordQueue&) = delete;
  RecordQueue& operator=(const RecordQueue&) = delete;

  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t max_payload() const noexcept { return capacity_ / 4 - sizeof(EntryMeta); }

  // Producer: copies the entry in and makes it visible. False (and counted
  // in dropped()) when the ring has no room.
  bool try_push(EntryMeta meta, std::span<const std::byte> payload) noexcept {
    if (payload.size() > max_payload()) return drop();
    meta.size = static_cast<std::uint32_t>(payload.size());
    const std::size_t need = entry_bytes(payload.size());
    std::uint64_t head = head_.load(std::memory_order_relaxed);
    const std::size_t to_end = capacity_ - static_cast<std::size_t>(head & (capacity_ - 1));
    const std::size_t skip = to_end < need ? to_end : 0;  // an entry never wraps: start over at 0
    if (!has_room(head, skip + need)) return drop();
    if (skip != 0) {
      EntryMeta wrap;
      wrap.size = kWrapMarker;
      std::memcpy(at(head), &wrap, sizeof wrap);
      head += skip;
    }
    std::memcpy(at(head), &meta, sizeof meta);
    if (!payload.empty()) std::memcpy(at(head) + sizeof meta, payload.data(), payload.size());
    head_.store(head + need, std::memory_order_release);
    return true;
  }

  // Consumer: passes up to max_entries waiting entries, oldest first, to
  // fn(const EntryMeta&, std::span<const std::byte> payload) (a view into
  // the ring, valid during the call), then frees them. Returns the count.
  template <class Fn>
  std::size_t drain(Fn&& fn, std::size_t max_entries) {
    const std::uint64_t head = head_.load(std::memory_order_acquire);
    std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    std::size_t count = 0;
    while (tail != head && count < max_entries) {
      EntryMeta meta;
      std::memcpy(&meta, at(tail), sizeof meta);
      if (meta.size == kWrapMarker) {
        tail += capacity_ - static_cast<std::size_t>(tail & (capacity_ - 1));
        continue;
      }
      fn(static_cast<const EntryMeta&>(meta), std::span<const std::byte>(at(tail) + sizeof meta, meta.size));
      tail += entry_bytes(meta.size);
      ++count;
    }
    tail_.store(tail, std::memory_order_release);
    return count;
  }

  // Any thread.
  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }
  bool empty() const noexcept {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_relaxed);
  }

 private:
  static constexpr std::uint32_t kWrapMarker = 0xFFFFFFFFu;

  static constexpr std::size_t entry_bytes(std::size_t payload) noexcept {
    return (sizeof(EntryMeta) + payload + kAlign - 1) & ~(kAlign - 1);
  }
  std::byte* at(std::uint64_t position) const noexcept {
    return storage_.get() + static_cast<std::size_t>(position & (capacity_ - 1));
  }
  bool has_room(std::uint64_t head, std::size_t bytes) noexcept {
    if (head + bytes - cached_tail_ <= capacity_) return true;
    cached_tail_ = tail_.load(std::memory_order_acquire);
    return head + bytes - cached_tail_ <= capacity_;
  }
  bool drop() noexcept {
    // One writer (the producer): load + store, no locked instruction.
    dropped_.store(dropped_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return false;
  }

  const std::size_t capacity_;
  const std::unique_ptr<std::byte[]> storage_;
  alignas(64) std::atomic<std::uint64_t> head_{0};  // producer writes
  std::uint64_t cached_tail_ = 0;                   // producer only
  std::atomic<std::uint64_t> dropped_{0};           // producer writes
  alignas(64) std::atomic<std::uint64_t> tail_{0};  // consumer writes
};

}  // namespace sil::record
