// The simulation thread's side of a recording never allocates: the services
// run with a Recorder on the bus, messages and control traffic are pushed
// into the preallocated queue, also while it is full (drops), with global
// operator new counted (counting_new.cpp, linked only into this executable).
// No gtest assertion runs between the two readings of the count.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "counting_new.hpp"
#include "test_system.hpp"
#include "sil/ipc/messages.hpp"
#include "thermal/messages.hpp"
#include "sil/record/record_queue.hpp"
#include "sil/record/recorder.hpp"

namespace sil::record {
namespace {

// Marks one payload as injected, like the bridge does while it publishes one.
struct Origin {
  const void* injecting = nullptr;
  bool is_injecting(const void* payload) const noexcept { return payload == injecting; }
};

TEST(RecorderAllocations, RecordingOnTheSimulationThreadAllocatesNothing) {
  sil::test::Sim sim(100);
  Origin origin;
  RecordQueue queue(1 << 16);  // fills up during the run: drops must not allocate either
  Recorder<Origin> recorder(queue, sim.clock(), origin, std::chrono::steady_clock::now());
  auto bus = sim.make_bus(recorder);
  sim.step(bus);  // first use of everything before counting
  const std::array<std::byte, 300> control{};

  const std::size_t before = test::allocation_count();
  const thermal::SetPoint set_point{.setpoint_c = 80.0};
  origin.injecting = &set_point;
  bus.publish(set_point);
  origin.injecting = nullptr;
  recorder.on_control_request(control);
  for (int i = 0; i < 3000; ++i) sim.step(bus);
  recorder.on_control_reply(control);
  const std::size_t after = test::allocation_count();

  EXPECT_EQ(after, before);
  EXPECT_GT(queue.dropped(), 0u) << "the queue never filled: the test missed the drop path";
  std::size_t injected = 0;
  std::size_t entries = 0;
  queue.drain(
      [&](const EntryMeta& meta, std::span<const std::byte>) {
        ++entries;
        injected += meta.direction == MessageDirection::injected ? 1 : 0;
      },
      SIZE_MAX);
  EXPECT_EQ(injected, 1u);
  EXPECT_GT(entries, 100u);
}

}  // namespace
}  // namespace sil::record
