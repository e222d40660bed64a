#!/usr/bin/python3
"""Where the scheduler puts a request/response server, and what it costs:
for each server given, p50 round trip from a raw Python loop, context
switches and CPU migrations per round trip (perf stat on the server), on
one CPU and unpinned. Every measurement launches its server afresh and
measures it alone, servers in rotating order, so none inherits a placement
from the one before. Not part of `make bench` (it needs perf and takes
several binaries); docs/performance.md "Realtime round trip" shows its use:

    PYTHONPATH=build-bench/python /usr/bin/python3 tests/bench/rtt_placement.py \\
        --build build-bench --sim new=build-bench/bin/thermal-sim --sim old=/tmp/thermal-sim.old

udp_echo (from --build) is always measured as the baseline.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_rtt import echo_block, raw_sim_block  # noqa: E402
from common import Process, import_sil, pin_processes, program, udp_socket  # noqa: E402

PERF_EVENTS = ("context-switches", "cpu-migrations")


def perf_counts(text: str) -> dict:
    """perf stat -x, output: value,unit,event,..."""
    counts = {}
    for line in text.splitlines():
        fields = line.split(",")
        if len(fields) > 2 and fields[2] in PERF_EVENTS:
            try:
                counts[fields[2]] = float(fields[0])
            except ValueError:  # "<not counted>"
                pass
    return counts


def measure(path: Path, is_echo: bool, one_cpu: bool, n: int) -> tuple:
    """(p50 us, context switches per round trip, migrations per round trip)."""
    original = os.sched_getaffinity(0)
    with Process(path, [] if is_echo else ["--port", "0"]) as server, udp_socket(server.port) as sock:
        if one_cpu:
            cpu = {min(original)}
            pin_processes([server.pid], cpu)
            os.sched_setaffinity(0, cpu)
        try:
            def block(count, out):
                if is_echo:
                    echo_block(sock, count, out)
                else:
                    raw_sim_block(sock, 1 << 22, count, out)

            block(100, [])  # warm-up
            perf = subprocess.Popen(["perf", "stat", "-x,", "-e", ",".join(PERF_EVENTS), "-p", str(server.pid)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            time.sleep(0.2)  # perf attached
            latencies: list = []
            block(n, latencies)
            perf.send_signal(signal.SIGINT)
            counts = perf_counts(perf.communicate(timeout=10)[1])
        finally:
            os.sched_setaffinity(0, original)
    latencies.sort()
    return (latencies[n // 2] / 1e3, counts.get("context-switches", float("nan")) / n,
            counts.get("cpu-migrations", float("nan")) / n)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", type=Path, required=True, help="a build with bin/udp_echo")
    parser.add_argument("--sim", action="append", required=True, metavar="LABEL=PATH",
                        help="a sil-sim-like program answering RevisionRequest (repeatable)")
    parser.add_argument("--blocks", type=int, default=8)
    parser.add_argument("--round-trips", type=int, default=1000)
    args = parser.parse_args()
    import_sil(args.build)
    servers = {"echo": (program(args.build, "udp_echo"), True)}
    for spec in args.sim:
        label, sep, path = spec.partition("=")
        if not sep or not Path(path).is_file():
            parser.error(f"--sim {spec!r}: expected LABEL=PATH to a program")
        servers[label] = (Path(path), False)
    for one_cpu in (True, False):
        results: dict = {label: [] for label in servers}
        for b in range(args.blocks):
            labels = list(servers)
            for label in labels[b % len(labels):] + labels[:b % len(labels)]:
                results[label].append(measure(*servers[label], one_cpu, args.round_trips))
        print("one CPU" if one_cpu else "unpinned, each server launched afresh and measured alone")
        for label, runs in results.items():
            p50 = [r[0] for r in runs]
            ratio = statistics.median(a / e[0] for a, e in zip(p50, results["echo"]))
            print(f"  {label:8s} p50 {statistics.median(p50):6.1f} us  ratio to echo {ratio:.2f}  "
                  f"context switches/rt {statistics.median(r[1] for r in runs):.2f}  "
                  f"migrations/rt {statistics.median(r[2] for r in runs):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
