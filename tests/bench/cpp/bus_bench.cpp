// bus.publish against the reference design (reference_bus.hpp), with 1 and
// 4 subscribers, in one binary so both run side by side. Every subscriber
// is the same Sink on both sides: it reads two fields of the payload and
// adds them to a total held in memory. The payload changes every iteration
// and is made opaque to the optimiser (benchmark::DoNotOptimize, which also
// clobbers memory), and the sinks escape before the loop, so neither side's
// work can be folded away: what differs is only how a publish reaches the
// subscribers.
//
// Each benchmark also reports allocs_per_publish: global operator new calls
// during the timed loop (counting_new.cpp replaces operator new in this
// binary only) divided by the iterations.
#include <benchmark/benchmark.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "counting_new.hpp"
#include "sil/core/faults.hpp"
#include "sil/ipc/catalogue_info.hpp"
#include "sil/ipc/sim_clock.hpp"
#include "reference_bus.hpp"
#include "sil/ipc/message_bus.hpp"
#include "sil/ipc/messages.hpp"

namespace {

using sil::ipc::MsgId;
using sil::ipc::RevisionResponse;

struct Sink {
  std::uint64_t total = 0;
  void on(const RevisionResponse& response) noexcept {
    total += response.request_id + static_cast<std::uint64_t>(response.catalogue_hash);
  }
};

template <std::size_t N>
void report(benchmark::State& state, std::size_t allocations_before, const std::array<Sink, N>& sinks) {
  const std::size_t allocations = sil::test::allocation_count() - allocations_before;
  state.counters["allocs_per_publish"] =
      benchmark::Counter(static_cast<double>(allocations), benchmark::Counter::kAvgIterations);
  std::uint64_t total = 0;
  for (const Sink& sink : sinks) total += sink.total;
  benchmark::DoNotOptimize(total);
}

template <std::size_t N>
void publish_loop(benchmark::State& state, auto&& publish, std::array<Sink, N>& sinks) {
  RevisionResponse payload{};
  payload.catalogue_hash = 0x5EEDU;
  std::uint32_t i = 0;
  benchmark::DoNotOptimize(sinks.data());  // escapes: the memory clobbers below reach the totals
  const std::size_t before = sil::test::allocation_count();
  for (auto _ : state) {
    payload.request_id = ++i;
    benchmark::DoNotOptimize(payload);
    publish(payload);
  }
  report(state, before, sinks);
}

template <std::size_t N>
void BM_MessageBus(benchmark::State& state) {
  std::array<Sink, N> sinks{};
  auto bus = [&]<std::size_t... I>(std::index_sequence<I...>) {
    return sil::ipc::MessageBus<sil::ipc::FrameworkCatalogue, decltype((void)I, Sink{})...>(sinks[I]...);
  };
  auto message_bus = bus(std::make_index_sequence<N>{});
  publish_loop(state, [&](const RevisionResponse& payload) { message_bus.template publish<MsgId::RevisionResponse>(payload); },
               sinks);
}

template <std::size_t N>
void BM_ReferenceBus(benchmark::State& state) {
  std::array<Sink, N> sinks{};
  sil::bench::ReferenceBus reference;
  for (Sink& sink : sinks) {
    reference.subscribe<MsgId::RevisionResponse>([&sink](const RevisionResponse& response) { sink.on(response); });
  }
  publish_loop(state, [&](const RevisionResponse& payload) { reference.publish<MsgId::RevisionResponse>(payload); },
               sinks);
}

// The simulation's bus: the fault stage in front of one Sink, with no fault
// (what every publication pays for fault injection being there) and with
// one field fault on the published type (a copy and the fault applied).
void BM_FaultStage(benchmark::State& state, bool one_fault) {
  std::array<Sink, 1> sinks{};
  const auto catalogue = sil::ipc::catalogue_info<sil::ipc::FrameworkCatalogue>();
  const sil::ipc::SimClock clock(100);
  sil::core::FaultSet faults(catalogue, clock);
  if (one_fault) {
    (void)faults.add({.kind = sil::core::FaultKind::field,
                      .msg_id = static_cast<std::uint16_t>(MsgId::RevisionResponse),
                      .field = "catalogue_hash", .op = sil::core::FieldOp::offset, .value = 1.0});
  }
  sil::core::FaultStage<sil::ipc::FrameworkCatalogue> stage(faults);
  sil::ipc::MessageBus<sil::ipc::FrameworkCatalogue, sil::core::FaultStage<sil::ipc::FrameworkCatalogue>, Sink> bus(
      stage, sinks[0]);
  publish_loop(state, [&](const RevisionResponse& payload) { bus.template publish<MsgId::RevisionResponse>(payload); },
               sinks);
}

BENCHMARK(BM_MessageBus<1>)->Name("bus_publish/1");
BENCHMARK_CAPTURE(BM_FaultStage, idle, false)->Name("bus_publish_fault_stage/no_fault");
BENCHMARK_CAPTURE(BM_FaultStage, one, true)->Name("bus_publish_fault_stage/one_fault");
BENCHMARK(BM_ReferenceBus<1>)->Name("reference_publish/1");
BENCHMARK(BM_MessageBus<4>)->Name("bus_publish/4");
BENCHMARK(BM_ReferenceBus<4>)->Name("reference_publish/4");

}  // namespace

BENCHMARK_MAIN();
