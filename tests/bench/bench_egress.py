"""UdpBridge egress (bus.publish -> UdpBridge::on -> one sendmsg) against a
raw sendmsg loop with the same two iovecs, to the same live receiver.

Both in one Google Benchmark binary (tests/bench/cpp/egress_bench.cpp),
repetitions randomly interleaved; ratio = raw CPU time per message / the
bridge's, median over repetitions (1.0: the bridge adds nothing; the bar is
0.95). Each CPU time includes the kernel's loopback delivery into the
receiver's socket, which sendmsg runs inline.
"""

from __future__ import annotations

import statistics

from common import baseline, entry, google_benchmark, paired_ratio, program

GROUP = "egress"
BAR_RATIO = 0.95


def run(ctx) -> list:
    repetitions, min_time = (5, 0.1) if ctx.quick else (7, 0.5)
    runs = google_benchmark(program(ctx.build, "egress_bench"), repetitions, min_time)
    ctx.details["egress"] = runs
    bridge = [r["cpu_ns"] for r in runs["bridge_egress"]]
    raw = [r["cpu_ns"] for r in runs["raw_sendmsg"]]
    delivered = statistics.median(r["delivered_per_send"] for r in runs["bridge_egress"])
    ctx.log(f"  bridge {statistics.median(bridge):.0f} ns, raw sendmsg {statistics.median(raw):.0f} ns per message; "
            f"receiver got {delivered:.2f} of each bridge send")
    bridge_rate, raw_rate = 1e9 / statistics.median(bridge), 1e9 / statistics.median(raw)
    return [
        entry("bridge_egress", bridge_rate, "messages/s (CPU)", baseline("raw_sendmsg", raw_rate, "messages/s (CPU)"),
              paired_ratio(raw, bridge), bar=f"ratio >= {BAR_RATIO:g}"),
        entry("bridge_egress_delivered_per_send", delivered, "datagrams"),
    ]
