"""Fast clock speed.

`sil-sim --clock fast` left alone for a fixed wall time (no_peer), and the
same with a Python consumer draining every datagram (with_consumer), and
with one that asks for bundles (docs/wire-format.md "Bundles") from a sim with
`--egress batched` (with_bundling_consumer: a tick's messages arrive as one
datagram); simulated seconds per wall second from the ticks in its stopped
line. Repetitions alternate.
"""

from __future__ import annotations

import socket
import statistics
import struct
import time

from common import (BUNDLE_HI, BUNDLE_LO, CONTROL_REQUEST, REVISION_REQUEST, SIM, BenchError, Process, entry,
                    import_control_pb2, import_sil, program, udp_rcvbuf_errors, udp_socket)

GROUP = "fast"
BAR_SPEED = 10_000.0
RATE_HZ = 100

def fast_run(bins: dict, rate: int, seconds: float, consumer: bool, bundling=None) -> dict:
    """bundling: None, or (the Hello datagram asking for bundles, sil.unbundle)."""
    egress = ["--egress", "batched"] if bundling else []
    with Process(bins["sil-sim"], ["--clock", "fast", "--rate", str(rate), "--port", "0", *egress]) as sim:
        drops_before = udp_rcvbuf_errors()
        received = 0
        start = time.monotonic()
        deadline = start + seconds
        if consumer:
            with udp_socket(sim.port) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, 100_000))
                buffer = bytearray(65536)
                view = memoryview(buffer)
                recv_into = sock.recv_into
                # Any valid datagram makes this socket the peer; a Hello also asks for bundles.
                sock.send(bundling[0] if bundling else REVISION_REQUEST)
                unbundle = bundling[1] if bundling else None
                now = time.monotonic
                while now() < deadline:
                    for _ in range(256):
                        try:
                            size = recv_into(buffer)
                        except BlockingIOError:  # 100 ms without a datagram
                            break
                        if unbundle is not None and buffer[0] == BUNDLE_LO and buffer[1] == BUNDLE_HI:
                            received += len(unbundle(view[:size]))
                        else:
                            received += 1
                stop_at = time.monotonic()
                sim.stop()
        else:
            time.sleep(max(0.0, deadline - time.monotonic()))
            stop_at = time.monotonic()
            sim.stop()
        drops_after = udp_rcvbuf_errors()
        report = sim.stopped_report()
        if report is None:
            raise BenchError(f"sil-sim wrote no stopped line:\n{sim.stderr_text()}")
    elapsed = stop_at - start
    return {
        "elapsed": elapsed,
        "ticks": report["ticks"],
        "speed": report["ticks"] / rate / elapsed,
        "ticks_per_s": report["ticks"] / elapsed,
        "received": received,
        "received_per_s": received / elapsed,
        "tx_sent": report.get("tx_sent", 0),
        "tx_sent_per_s": report.get("tx_sent", 0) / elapsed,
        "tx_errors": report.get("tx_errors", 0),
        "kernel_rcvbuf_drops": (drops_after - drops_before) if drops_before is not None and drops_after is not None
        else None,
    }


def bench_fast(bins: dict, seconds: float, reps: int, log, bundling) -> tuple[list, dict]:
    rate = RATE_HZ
    variants = ("no_peer", "with_consumer", "with_bundling_consumer")
    runs: dict[str, list] = {variant: [] for variant in variants}
    for r in range(reps):
        order = variants[r % 3:] + variants[:r % 3]
        for variant in order:
            run = fast_run(bins, rate, seconds, variant != "no_peer",
                           bundling if variant == "with_bundling_consumer" else None)
            runs[variant].append(run)
            extra = (f"  delivered {run['received_per_s']:9.0f}/s  sent {run['tx_sent_per_s']:9.0f}/s  "
                     f"tx_errors {run['tx_errors']}  kernel drops {run['kernel_rcvbuf_drops']}"
                     if variant != "no_peer" else "")
            log(f"  rep {r + 1}/{reps} {variant:13s}: {run['speed']:9.0f}x real time "
                f"({run['ticks_per_s']:9.0f} ticks/s){extra}")
    med = {v: statistics.median(run["speed"] for run in rs) for v, rs in runs.items()}
    pair_ratios = [c["speed"] / n["speed"] for n, c in zip(runs["no_peer"], runs["with_consumer"])]
    consumer = runs["with_consumer"]
    delivered = statistics.median(run["received_per_s"] for run in consumer)
    sent = statistics.median(run["tx_sent_per_s"] for run in consumer)
    tx_errors = statistics.median(run["tx_errors"] for run in consumer)
    drops = [run["kernel_rcvbuf_drops"] for run in consumer if run["kernel_rcvbuf_drops"] is not None]
    no_peer_base = {"name": "fast_mode_speed_no_peer", "value": med["no_peer"], "unit": "sim_s/wall_s"}
    results = [
        entry("fast_mode_speed_no_peer", med["no_peer"], "sim_s/wall_s", bar=f"> {BAR_SPEED:.0f}"),
        entry("fast_mode_speed_with_consumer", med["with_consumer"], "sim_s/wall_s", no_peer_base,
              statistics.median(pair_ratios)),
        entry("fast_mode_with_consumer_delivered", delivered, "datagrams/s",
              {"name": "fast_mode_with_consumer_sent", "value": sent, "unit": "datagrams/s"},
              statistics.median(c["received_per_s"] / c["tx_sent_per_s"] for c in consumer if c["tx_sent_per_s"])
              if sent else None),
        entry("fast_mode_with_consumer_tx_errors", tx_errors, "datagrams"),
    ]
    bundled = runs["with_bundling_consumer"]
    results += [
        entry("fast_mode_speed_with_bundling_consumer", med["with_bundling_consumer"], "sim_s/wall_s",
              {"name": "fast_mode_speed_with_consumer", "value": med["with_consumer"], "unit": "sim_s/wall_s"},
              statistics.median(b["speed"] / c["speed"] for b, c in zip(bundled, consumer))),
        entry("fast_mode_with_bundling_consumer_delivered", statistics.median(b["received_per_s"] for b in bundled),
              "messages/s", {"name": "fast_mode_with_bundling_consumer_sent",
                             "value": statistics.median(b["tx_sent_per_s"] for b in bundled), "unit": "messages/s"},
              statistics.median(b["received_per_s"] / b["tx_sent_per_s"] for b in bundled if b["tx_sent_per_s"])),
    ]
    if drops:
        results.append(entry("fast_mode_with_consumer_kernel_rcvbuf_drops", statistics.median(drops), "datagrams"))
    return results, {"rate_hz": rate, "seconds": seconds, "runs": runs}



def run(ctx) -> list:
    seconds, reps = (1.0, 3) if ctx.quick else (3.0, 5)
    ctx.log(f"--rate {RATE_HZ}, {seconds:g} s per run, {reps} runs per variant")
    sil = import_sil(ctx.build)
    pb2, _source = import_control_pb2(ctx.tmp)
    hello = pb2.Request(sequence=1)
    hello.hello.catalogue_hash = sil.catalogue_hash
    hello.hello.bundle_bytes = sil.MAX_BUNDLE_BYTES
    bundling = (CONTROL_REQUEST + hello.SerializeToString(), sil.unbundle)
    results, details = bench_fast({"sil-sim": program(ctx.build, SIM)}, seconds, reps, ctx.log, bundling)
    ctx.details["fast"] = details
    return results
