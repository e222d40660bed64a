"""Request/response round trip from Python, the way a user writes it:
SimClient.request(RevisionRequest(...), RevisionResponse) against a launched
`sil-sim` (realtime clock, default rate: telemetry keeps arriving meanwhile),
against the baseline: a raw Python UDP client (send, blocking recv) bouncing
the same 6-byte request off udp_echo, a minimal C++ echo (one thread,
recvmsg + sendmsg).

A fourth client does what the process target does: SimClient.request
against a sil-sim on the step clock (--egress batched), where the
simulation thread reads the socket itself: one wakeup per round trip, as
with the echo (perf stat: 1.0 context switch per round trip in sil-sim on
the step clock and in udp_echo, 2.1 on the realtime clock).

To say where any difference goes, a third client runs in the same blocks:
the raw Python loop (send, recv until the RevisionResponse with its
request_id) against a second sil-sim, so client cost and sim cost separate:

  client / raw_sim   what SimClient adds over the cheapest Python loop
  raw_sim / echo     what sil-sim adds over the kernel and a bare echo

Blocks of the three alternate (the order rotates); every round trip's
latency is kept; p50 and p99 over all of them, and the p50 ratio is the
median of the per-block p50 ratios.

Twice: threads where the scheduler puts them (the plain names), and
everything (this interpreter, both sims, udp_echo) pinned to one CPU
(*_one_cpu). Unpinned, whether a server happens to share the client's CPU
moves a round trip between about 20 and 50 us on a 2-core VM (a wakeup
across CPUs costs an interrupt and an idle exit), for the echo as much as
for the sim: the unpinned ratio says more about the scheduler than about
the code; the one-CPU ratio is what the code costs.

Where the time goes (one CPU, a loaded 2-core VM, p50): raw Python to
udp_echo 12 us; raw Python to sil-sim 19 us: on the realtime clock the
sim's rx thread hands each datagram to the simulation thread (one eventfd
wakeup and context switch more than the echo); SimClient.request 25 us:
building and encoding the request object and decoding the reply into one,
and the client's bookkeeping (history, unconsumed messages by type, the
deadline). The client used to cost more: it scanned every unconsumed
message on each wait (a round trip grew from 32 to 58 us after 5 s of
telemetry), checked both classes' fields() on every request, and waited
with a poll, the recv and a recv that found nothing; see git log.

Standalone: PYTHONPATH=<build>/python /usr/bin/python3 tests/bench/run.py --build <build> --only rtt
"""

from __future__ import annotations

import os
import statistics
import struct
import time

from common import SIM, BenchError, Process, entry, import_sil, percentile, pin_processes, program, udp_socket

GROUP = "rtt"
BAR_P50_RATIO = 1.2
RESPONSE_HEADER = b"\xd1\x07"  # MsgId 2001, RevisionResponse
REQUEST_ID = struct.Struct("<HI")


def client_block(client, request_type, response_type, first_id: int, n: int, latencies: list) -> None:
    clock = time.perf_counter_ns
    for request_id in range(first_id, first_id + n):
        t0 = clock()
        response = client.request(request_type(request_id=request_id), response_type, timeout=2.0)
        latencies.append(clock() - t0)
        if response.request_id != request_id:
            raise BenchError(f"SimClient.request returned request_id {response.request_id}, not {request_id}")


def raw_sim_block(sock, first_id: int, n: int, latencies: list) -> None:
    clock = time.perf_counter_ns
    send, recv, pack, unpack = sock.send, sock.recv, REQUEST_ID.pack, REQUEST_ID.unpack_from
    for request_id in range(first_id, first_id + n):
        t0 = clock()
        send(pack(2000, request_id))
        while True:
            data = recv(2048)  # SO_RCVTIMEO bounds it: BlockingIOError after 2 s
            if data[:2] == RESPONSE_HEADER and unpack(data)[1] == request_id:
                break
        latencies.append(clock() - t0)


def echo_block(sock, n: int, latencies: list) -> None:
    clock = time.perf_counter_ns
    send, recv, payload = sock.send, sock.recv, REQUEST_ID.pack(2000, 1)
    for _ in range(n):
        t0 = clock()
        send(payload)
        data = recv(2048)
        latencies.append(clock() - t0)
        if len(data) != len(payload):
            raise BenchError(f"udp_echo sent back {len(data)} bytes")


def run(ctx) -> list:
    import_sil(ctx.build)
    results = []
    for suffix in ("", "_one_cpu"):
        ctx.log(f"  placement: {'one CPU' if suffix else 'unpinned'}")
        results += measure(ctx, suffix)
    return results


def measure(ctx, suffix: str) -> list:
    from sil import RevisionRequest, RevisionResponse, SimClient

    sim_bin, echo_bin = program(ctx.build, SIM), program(ctx.build, "udp_echo")
    blocks, n = (5, 200) if ctx.quick else (10, 1000)
    lat = {"client": [], "raw_sim": [], "echo": [], "client_step": []}
    block_p50 = {name: [] for name in lat}
    original_affinity = os.sched_getaffinity(0)
    with Process(sim_bin, ["--port", "0"]) as sim, Process(sim_bin, ["--port", "0"]) as raw_sim, \
            Process(sim_bin, ["--port", "0", "--clock", "step", "--egress", "batched"]) as step_sim, \
            Process(echo_bin, []) as echo, SimClient(sim.port, timeout=2.0) as client, \
            SimClient(step_sim.port, timeout=2.0) as step_client, \
            udp_socket(raw_sim.port) as raw_sock, udp_socket(echo.port) as echo_sock:
        if suffix:
            cpu = {min(original_affinity)}
            pin_processes([sim.pid, raw_sim.pid, step_sim.pid, echo.pid], cpu)
            os.sched_setaffinity(0, cpu)
        try:
            client.revision()  # the peer from now on: telemetry flows to it, as in a real session
            step_client.revision()
            next_id = {"client": 1 << 20, "raw_sim": 1 << 21, "echo": 0, "client_step": 1 << 22}
            run_block = {
                "client": lambda count, out: client_block(client, RevisionRequest, RevisionResponse,
                                                          next_id["client"], count, out),
                "raw_sim": lambda count, out: raw_sim_block(raw_sock, next_id["raw_sim"], count, out),
                "echo": lambda count, out: echo_block(echo_sock, count, out),
                "client_step": lambda count, out: client_block(step_client, RevisionRequest, RevisionResponse,
                                                               next_id["client_step"], count, out),
            }
            for name, fn in run_block.items():  # warm-up, not counted
                fn(min(n, 200), [])
                next_id[name] += min(n, 200)
            for b in range(blocks):
                order = list(lat)[b % len(lat):] + list(lat)[:b % len(lat)]
                for name in order:
                    samples: list = []
                    run_block[name](n, samples)
                    next_id[name] += n
                    samples.sort()
                    lat[name] += samples
                    block_p50[name].append(percentile(samples, 0.5) / 1e3)
                ctx.log(f"  block {b + 1}/{blocks}: p50 client {block_p50['client'][-1]:.1f} us, "
                        f"raw->sim {block_p50['raw_sim'][-1]:.1f} us, raw->echo {block_p50['echo'][-1]:.1f} us, "
                        f"client->step sim {block_p50['client_step'][-1]:.1f} us")
            unconsumed = len(client.drain())
            received = sum(client.counts().values())
        finally:
            if suffix:
                os.sched_setaffinity(0, original_affinity)
    for samples in lat.values():
        samples.sort()

    def us(name, q):
        return percentile(lat[name], q) / 1e3

    def p50_ratio(name, base):
        return statistics.median(a / b for a, b in zip(block_p50[name], block_p50[base]))

    s = suffix
    echo_p50 = {"name": "rtt_raw_echo_p50" + s, "value": us("echo", 0.5), "unit": "us"}
    echo_p99 = {"name": "rtt_raw_echo_p99" + s, "value": us("echo", 0.99), "unit": "us"}
    raw_p50 = {"name": "rtt_raw_sim_p50" + s, "value": us("raw_sim", 0.5), "unit": "us"}
    results = [
        entry("rtt_client_request_p50" + s, us("client", 0.5), "us", echo_p50, p50_ratio("client", "echo"),
              bar=f"ratio <= {BAR_P50_RATIO:g}"),
        entry("rtt_client_request_p99" + s, us("client", 0.99), "us", echo_p99,
              us("client", 0.99) / us("echo", 0.99), bar="reported"),
        entry("rtt_raw_echo_p50" + s, us("echo", 0.5), "us"),
        entry("rtt_raw_echo_p99" + s, us("echo", 0.99), "us"),
        entry("rtt_raw_sim_p50" + s, us("raw_sim", 0.5), "us", echo_p50, p50_ratio("raw_sim", "echo"),
              bar="the sim's share"),
        entry("rtt_raw_sim_p99" + s, us("raw_sim", 0.99), "us"),
        entry("rtt_client_over_raw_sim_p50" + s, us("client", 0.5), "us", raw_p50, p50_ratio("client", "raw_sim"),
              bar="the client's share"),
        entry("rtt_client_request_step_clock_p50" + s, us("client_step", 0.5), "us", echo_p50,
              p50_ratio("client_step", "echo"), bar="reported"),
    ]
    ctx.details.setdefault(GROUP, {})["placement" + s] = {
        "blocks": blocks, "round_trips_per_block": n, "block_p50_us": block_p50,
        "client_messages_received": received, "client_unconsumed_at_end": unconsumed,
        "sim_stopped": {"client": sim.stopped_report(), "raw": raw_sim.stopped_report()},
    }
    return results
