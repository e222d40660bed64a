#!/usr/bin/python3
"""Where a lockstep round trip's time goes. Not part of `make bench`; run by
hand when run.py's lockstep ratio needs explaining:

    PYTHONPATH=build-bench/python /usr/bin/python3 tests/bench/profile_lockstep.py --build build-bench

Interleaves blocks of four round trips, from the cheapest to the real one
(with --bundles, the sim sends each tick's messages and the Reply as one
bundle, as the process target asks it to):
  raw           6 bytes to udp_echo and back (run.py's baseline)
  hello         a prebuilt Hello control request to a step-clock sil-sim and
                its Reply: the rx thread -> inbox/eventfd -> sim thread
                handoff, without a tick
  advance_bare  a prebuilt Advance(ticks=1) (same bytes every time), the
                tick's bus datagrams skipped by header, the Reply not parsed
  advance_full  what run.py times: a fresh Request serialized per round trip,
                the Reply parsed and checked
and, per round trip, the CPU time and context switches of every thread of
the server (from /proc/<pid>/task/<tid>/schedstat and status) and of this
Python process, plus the cost of the protobuf work alone (no sockets).
Medians over blocks. Bounded: every receive times out after 2 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
import common as bench  # noqa: E402  (tests/bench/common.py)
from bench_lockstep import Lockstep, PingPong  # noqa: E402


def thread_counters(pid: int) -> dict:
    """{tid: (cpu_ns, voluntary_switches, involuntary_switches)}"""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            cpu_ns = int((task / "schedstat").read_text().split()[0])
            status = dict(line.split(":\t", 1) for line in (task / "status").read_text().splitlines() if ":\t" in line)
            out[int(task.name)] = (cpu_ns, int(status["voluntary_ctxt_switches"]),
                                   int(status["nonvoluntary_ctxt_switches"]))
        except (OSError, KeyError, ValueError):
            continue
    return out


def self_counters() -> tuple:
    cpu_ns = int(Path("/proc/thread-self/schedstat").read_text().split()[0])
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return cpu_ns, usage.ru_nvcsw, usage.ru_nivcsw


def delta(before: dict, after: dict) -> dict:
    return {tid: tuple(a - b for a, b in zip(after[tid], before.get(tid, (0, 0, 0)))) for tid in after}


def count_syscalls(name: str, pid: int, block, size: int) -> None:
    """strace -c -f attached to pid for one block: calls per round trip."""
    import subprocess
    import tempfile

    with tempfile.NamedTemporaryFile(prefix="strace-", suffix=".txt") as out:
        tracer = subprocess.Popen(["strace", "-c", "-f", "-o", out.name, "-p", str(pid)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(1.0)  # strace prints "attached" asynchronously; give it time to attach to every thread
        block()
        tracer.send_signal(2)
        tracer.wait(10)
        text = Path(out.name).read_text()
    counts = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[0].replace(".", "").isdigit() and parts[-1] not in ("total",):
            calls = int(parts[3])
            errors = int(parts[4]) if len(parts) == 6 else 0
            counts.append((parts[-1], calls / size, errors / size))
    summary = ", ".join(f"{c} {n:.2f}" + (f" ({e:.2f} failed)" if e >= 0.005 else "") for c, n, e in
                        sorted(counts, key=lambda x: -x[1]) if n >= 0.005)
    print(f"syscalls per round trip, {name} (server side, strace -c -f): {summary}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", type=Path, default=bench.REPO / "build-bench")
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--block-size", type=int, default=5000)
    parser.add_argument("--bundles", action="store_true",
                        help="ask for bundles in Hello, as the process target does "
                             "(docs/wire-format.md \"Bundles\"): the tick's messages and the Reply then arrive "
                             "as one datagram")
    parser.add_argument("--pin", choices=("none", "one-cpu", "split"), default="none",
                        help="one-cpu: every thread (Python and the servers') on CPU 0; split: Python on CPU 0, "
                             "the servers on CPU 1; none: leave placement to the scheduler")
    parser.add_argument("--syscalls", action="store_true",
                        help="also count sil-sim's and udp_echo's system calls per round trip with strace -c -f "
                             "(slow: strace stops the process at every call; counts only, not times)")
    args = parser.parse_args()
    build = args.build.resolve()
    bins = {"sil-sim": build / "bin" / bench.SIM, "udp_echo": build / "bin" / "udp_echo"}
    sil = bench.import_sil(build)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        pb2, _ = bench.import_control_pb2(Path(tmp))

    # Protobuf alone, no sockets: what advance_full adds over advance_bare in Python.
    request = pb2.Request()
    request.advance.ticks = 1
    reply_bytes = pb2.Reply(sequence=7, sim_time_ns=10_000_000, tick=1,
                            advanced=pb2.Advanced(ticks_run=1)).SerializeToString()
    n = 200_000
    t0 = time.perf_counter_ns()
    for i in range(n):
        request.sequence = i
        data = bench.CONTROL_REQUEST + request.SerializeToString()
    t1 = time.perf_counter_ns()
    assert data[:2] == bench.CONTROL_REQUEST
    framed = bytearray(b"\xf1\xff" + reply_bytes)
    for _ in range(n):
        reply = pb2.Reply.FromString(bytes(framed[2:len(framed)]))
        if reply.sequence != 7 or reply.advanced.ticks_run != 1:
            raise AssertionError(reply)
    t2 = time.perf_counter_ns()
    print(f"protobuf in Python ({'cpp' if 'cpp' in str(type(request)) else type(request)}): "
          f"serialize request {(t1 - t0) / n / 1e3:.2f} us, parse+check reply {(t2 - t1) / n / 1e3:.2f} us")

    size = args.block_size
    with bench.Process(bins["sil-sim"], ["--clock", "step", "--egress", "batched", "--port", "0"]) as sim, \
            bench.Process(bins["udp_echo"], []) as echo:
        with bench.udp_socket(sim.port) as sim_sock, bench.udp_socket(echo.port) as echo_sock:
            if args.pin != "none":
                server_cpu = 0 if args.pin == "one-cpu" else 1
                os.sched_setaffinity(0, {0})
                for pid in (sim.pid, echo.pid):
                    for task in Path(f"/proc/{pid}/task").iterdir():
                        os.sched_setaffinity(int(task.name), {server_cpu})
            bundle_bytes = sil.MAX_BUNDLE_BYTES if args.bundles else 0
            lockstep, ping = Lockstep(sim_sock, pb2, sil.unbundle, bundle_bytes), PingPong(echo_sock)
            lockstep.hello(sil.catalogue_hash)
            hello = pb2.Request(sequence=1)
            hello.hello.catalogue_hash = sil.catalogue_hash
            hello.hello.bundle_bytes = bundle_bytes
            hello_bytes = bench.CONTROL_REQUEST + hello.SerializeToString()
            advance = pb2.Request(sequence=1)
            advance.advance.ticks = 1
            advance_bytes = bench.CONTROL_REQUEST + advance.SerializeToString()
            buffer = bytearray(65536)
            view = memoryview(buffer)

            def control_block(data: bytes, count: int) -> tuple[float, int]:
                send, recv_into, unbundle = sim_sock.send, sim_sock.recv_into, sil.unbundle
                skipped = 0
                start = time.perf_counter_ns()
                for _ in range(count):
                    send(data)
                    while True:
                        length = recv_into(buffer)
                        if buffer[0] == bench.CONTROL_REPLY_LO and buffer[1] == bench.CONTROL_REPLY_HI:
                            break
                        if buffer[0] == bench.BUNDLE_LO and buffer[1] == bench.BUNDLE_HI:  # the Reply ends it
                            skipped += len(unbundle(view[:length])) - 1
                            break
                        skipped += 1
                return (time.perf_counter_ns() - start) / 1e9, skipped

            variants = {
                "raw": (echo.pid, lambda: (ping.block(size, []), 0)),
                "hello": (sim.pid, lambda: control_block(hello_bytes, size)),
                "advance_bare": (sim.pid, lambda: control_block(advance_bytes, size)),
                "advance_full": (sim.pid, lambda: (lockstep.block(size, []), None)),
            }
            for fn in variants.values():  # warm-up
                fn[1]()
            if args.syscalls:
                for name in ("raw", "hello", "advance_bare"):
                    count_syscalls(name, variants[name][0], lambda n=name: variants[n][1](), size)
            samples = {name: [] for name in variants}
            for b in range(args.blocks):
                names = list(variants) if b % 2 == 0 else list(reversed(variants))
                for name in names:
                    pid, fn = variants[name]
                    server_before, me_before = thread_counters(pid), self_counters()
                    datagrams_before = lockstep.bus_datagrams
                    elapsed, skipped = fn()
                    me_after, server_after = self_counters(), thread_counters(pid)
                    if skipped is None:
                        skipped = lockstep.bus_datagrams - datagrams_before
                    threads = delta(server_before, server_after)
                    samples[name].append({
                        "rate": size / elapsed,
                        "us": elapsed / size * 1e6,
                        "bus_datagrams": skipped / size,
                        "python": tuple(x / size for x in (a - b for a, b in zip(me_after, me_before))),
                        "threads": {("main" if tid == pid else f"tid{tid}"): tuple(x / size for x in v)
                                    for tid, v in threads.items()},
                    })
        sim.stop()
        echo.stop()

    def med(values):
        return statistics.median(values)

    print(f"\n{args.blocks} blocks of {size} round trips per variant, interleaved, pinning {args.pin}; "
          "medians per round trip")
    print("cpu in us; vcs/ics = voluntary/involuntary context switches")
    header = f"{'variant':13s} {'rt/s':>8s} {'us/rt':>7s} {'bus dg':>6s} | {'python cpu':>10s} {'vcs':>5s} {'ics':>5s}"
    print(header + " | server threads: cpu vcs ics")
    for name, rows in samples.items():
        py_cpu = med(r["python"][0] for r in rows) / 1e3
        py_vcs = med(r["python"][1] for r in rows)
        py_ics = med(r["python"][2] for r in rows)
        threads = sorted({t for r in rows for t in r["threads"]}, key=lambda t: t != "main")
        per_thread = []
        for t in threads:
            vals = [r["threads"][t] for r in rows if t in r["threads"]]
            label = "echo" if name == "raw" else ("sim" if t == "main" else "rx")
            per_thread.append(f"{label}: {med(v[0] for v in vals) / 1e3:5.2f} {med(v[1] for v in vals):4.2f} "
                              f"{med(v[2] for v in vals):4.2f}")
        print(f"{name:13s} {med(r['rate'] for r in rows):8.0f} {med(r['us'] for r in rows):7.2f} "
              f"{med(r['bus_datagrams'] for r in rows):6.2f} | {py_cpu:10.2f} {py_vcs:5.2f} {py_ics:5.2f} | "
              + "; ".join(per_thread))
    return 0


if __name__ == "__main__":
    sys.exit(main())
