"""UdpBridge egress (bus.publish -> UdpBridge::on -> one sendmsg) against a
raw sendmsg loop with the same two iovecs, to the same live receiver.

Both in one Google Benchmark binary (tests/bench/cpp/egress_bench.cpp),
repetitions randomly interleaved; ratio = raw CPU time per message / the
bridge's, median over repetitions (1.0: the bridge adds nothing; the bar is
0.95). Each CPU time includes the kernel's loopback delivery into the
receiver's socket, which sendmsg runs inline.

A third loop, raw_sendmsg_epoll_registered, is the raw loop on a socket that
is also in an epoll set, as asio puts every socket it opens: each datagram's
release then wakes the socket's wait queue. The bridge's socket used to be an
asio one and paid that on every send (ratio about 0.95); since this
measurement it is a plain socket. The loop stays to show what registration
costs.
"""

from __future__ import annotations

import statistics

from common import baseline, entry, google_benchmark_group, paired_ratio

GROUP = "egress"
BAR_RATIO = 0.95


def run(ctx) -> list:
    runs = google_benchmark_group(ctx, "egress_bench", min_time_s=0.15, quick_min_time_s=0.05)
    bridge = [r["cpu_ns"] for r in runs["bridge_egress"]]
    raw = [r["cpu_ns"] for r in runs["raw_sendmsg"]]
    delivered = statistics.median(r["delivered_per_send"] for r in runs["bridge_egress"])
    ctx.log(f"  bridge {statistics.median(bridge):.0f} ns, raw sendmsg {statistics.median(raw):.0f} ns per message; "
            f"receiver got {delivered:.2f} of each bridge send")
    bridge_rate, raw_rate = 1e9 / statistics.median(bridge), 1e9 / statistics.median(raw)
    epoll = [r["cpu_ns"] for r in runs["raw_sendmsg_epoll_registered"]]
    return [
        entry("bridge_egress", bridge_rate, "messages/s (CPU)", baseline("raw_sendmsg", raw_rate, "messages/s (CPU)"),
              paired_ratio(raw, bridge), bar=f"ratio >= {BAR_RATIO:g}"),
        entry("raw_sendmsg_epoll_registered", 1e9 / statistics.median(epoll), "messages/s (CPU)",
              baseline("raw_sendmsg", raw_rate, "messages/s (CPU)"), paired_ratio(raw, epoll)),
        entry("bridge_egress_delivered_per_send", delivered, "datagrams"),
    ]
