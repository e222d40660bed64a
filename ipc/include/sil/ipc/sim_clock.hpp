#pragma once
// Simulated time: the only time a service sees. The simulation core
// advances it one tick at a time; services hold a const reference.
#include <cstdint>

namespace sil::ipc {

class SimClock {
 public:
  static constexpr std::uint64_t kNanosPerSecond = 1'000'000'000;

  explicit constexpr SimClock(std::uint32_t rate_hz) noexcept : rate_hz_(rate_hz == 0 ? 1 : rate_hz) {}

  constexpr std::uint32_t rate_hz() const noexcept { return rate_hz_; }
  constexpr std::uint64_t tick() const noexcept { return tick_; }
  // Computed from the tick count, not accumulated, so it never drifts; split
  // into whole seconds and the remainder so tick * 1e9 cannot overflow.
  constexpr std::uint64_t now_ns() const noexcept { return ns_at(tick_); }
  constexpr std::uint64_t ns_at(std::uint64_t tick) const noexcept {
    return tick / rate_hz_ * kNanosPerSecond + tick % rate_hz_ * kNanosPerSecond / rate_hz_;
  }
  constexpr std::uint64_t period_ns() const noexcept { return kNanosPerSecond / rate_hz_; }

  constexpr void advance() noexcept { ++tick_; }

 private:
  std::uint32_t rate_hz_;
  std::uint64_t tick_ = 0;
};

}  // namespace sil::ipc

namespace sil {
using ipc::SimClock;
}  // namespace sil
