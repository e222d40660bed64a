#pragma once
// A bus subscriber that folds every publication - (simulated time, MsgId,
// payload bytes), in order - into one 64-bit FNV-1a digest. Two runs with
// equal digests published the same sequence; comparing them is how the
// determinism test checks a whole run without recording it.
#include <cstddef>
#include <cstdint>

#include "sil/ipc/message.hpp"
#include "sil/ipc/sim_clock.hpp"

namespace sil::core {

class TraceDigest {
 public:
  explicit TraceDigest(const ipc::SimClock& clock) noexcept : clock_(clock) {}

  template <ipc::Message T>
  void on(const T& message) noexcept {
    add(clock_.now_ns(), sizeof clock_.now_ns());
    add(static_cast<std::uint16_t>(T::id), 2);
    const auto* bytes = reinterpret_cast<const unsigned char*>(&message);
    for (std::size_t i = 0; i < sizeof(T); ++i) mix(bytes[i]);
    ++count_;
  }

  std::uint64_t digest() const noexcept { return hash_; }
  std::uint64_t count() const noexcept { return count_; }

 private:
  void add(std::uint64_t value, std::size_t bytes) noexcept {
    for (std::size_t i = 0; i < bytes; ++i) mix(static_cast<unsigned char>(value >> (8 * i)));
  }
  void mix(unsigned char byte) noexcept {
    hash_ ^= byte;
    hash_ *= 1099511628211ULL;
  }

  const ipc::SimClock& clock_;
  std::uint64_t hash_ = 14695981039346656037ULL;
  std::uint64_t count_ = 0;
};

}  // namespace sil::core
