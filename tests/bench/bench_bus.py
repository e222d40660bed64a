"""bus.publish against the reference design (an unordered_map of vectors of
std::function, one indirect call per subscriber), 1 and 4 subscribers.

Both run in one Google Benchmark binary (tests/bench/cpp/bus_bench.cpp),
repetitions randomly interleaved; values are publishes per second of the
publishing thread's CPU time, ratio = ours / the reference's, median over
repetitions (5: ours takes a fifth of the time). Also heap
allocations per publish, counted with a replaced operator new.
"""

from __future__ import annotations

import statistics

from common import baseline, entry, google_benchmark_group, paired_ratio

GROUP = "bus"
BAR_RATIO = 5.0


def run(ctx) -> list:
    runs = google_benchmark_group(ctx, "bus_bench", min_time_s=0.05, quick_min_time_s=0.02)
    results = []
    for subscribers in (1, 4):
        ours = [r["cpu_ns"] for r in runs[f"bus_publish/{subscribers}"]]
        reference = [r["cpu_ns"] for r in runs[f"reference_publish/{subscribers}"]]
        ctx.log(f"  {subscribers} subscriber(s): bus {statistics.median(ours):.2f} ns, "
                f"reference {statistics.median(reference):.2f} ns per publish")
        results.append(entry(f"bus_publish_{subscribers}_subscriber{'s' * (subscribers > 1)}",
                             1e9 / statistics.median(ours), "publishes/s (CPU)",
                             baseline(f"reference_publish_{subscribers}", 1e9 / statistics.median(reference),
                                      "publishes/s (CPU)"),
                             paired_ratio(reference, ours), bar=f"ratio >= {BAR_RATIO:g}"))
    # Fault injection (docs/faults.md "Cost"): the simulation's bus, which
    # has the fault stage in front, with no fault must still clear the bus's
    # bar against the reference; with one field fault on the published type
    # it is reported against the plain bus (a copy and the fault applied).
    plain = [r["cpu_ns"] for r in runs["bus_publish/1"]]
    reference = [r["cpu_ns"] for r in runs["reference_publish/1"]]
    idle = [r["cpu_ns"] for r in runs["bus_publish_fault_stage/no_fault"]]
    faulted = [r["cpu_ns"] for r in runs["bus_publish_fault_stage/one_fault"]]
    ctx.log(f"  fault stage: no fault {statistics.median(idle):.2f} ns, one fault {statistics.median(faulted):.2f} ns "
            f"per publish (plain bus {statistics.median(plain):.2f} ns: the idle stage adds "
            f"{statistics.median(idle) - statistics.median(plain):.2f} ns)")
    results.append(entry("bus_publish_fault_stage_no_fault", 1e9 / statistics.median(idle), "publishes/s (CPU)",
                         baseline("reference_publish_1", 1e9 / statistics.median(reference), "publishes/s (CPU)"),
                         paired_ratio(reference, idle), bar=f"ratio >= {BAR_RATIO:g}"))
    results.append(entry("bus_publish_fault_stage_one_fault", statistics.median(faulted), "ns/publish (CPU)",
                         baseline("bus_publish_1", statistics.median(plain), "ns/publish (CPU)"),
                         paired_ratio(faulted, plain)))
    allocations = max(r["allocs_per_publish"] for name, rs in runs.items() if name.startswith("bus_") for r in rs)
    results.append(entry("bus_publish_heap_allocations", allocations, "allocations/publish", bar="<= 0"))
    return results
