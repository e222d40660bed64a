"""Lockstep round trip against raw UDP ping-pong.

One UDP socket drives `sil-sim --clock step --egress batched` (as the
process target launches it) with Advance(ticks=1) requests, each answered by
a Reply after the tick's bus datagrams (sent with them, in one sendmmsg); against
raw_udp_ping_pong, the same interpreter bouncing a 6-byte datagram off
udp_echo. Blocks of the two alternate; rates and ratios are medians over the
blocks (the ratio of each adjacent pair, then the median), so a machine busy
with other work hits both alike. Three times: threads where the scheduler
puts them (the plain names), all pinned to one CPU (*_one_cpu: what the code
costs, steady), and client and servers on different CPUs (*_split: every
client<->server wakeup crosses CPUs). Unpinned numbers swing between those
two as the scheduler moves threads; see profile_lockstep.py.
"""

from __future__ import annotations

import os
import socket
import statistics
import time

from common import (CONTROL_REPLY_HI, CONTROL_REPLY_LO, CONTROL_REQUEST, BenchError, Process, entry, import_control_pb2,
                    import_sil, percentile, pin_processes, program, udp_socket)

GROUP = "lockstep"
BAR_RATIO = 0.8



class Lockstep:
    """Drives a step-clock sil-sim: Hello once, then Advance(ticks=1) per
    round trip, waiting for the Reply and discarding the bus datagrams that
    come before it (only their 2-byte header is looked at)."""

    def __init__(self, sock: socket.socket, pb2) -> None:
        self.sock = sock
        self.pb2 = pb2
        self.sequence = 0
        self.bus_datagrams = 0
        self.buffer = bytearray(65536)
        self.request = pb2.Request()
        self.request.advance.ticks = 1

    def hello(self, catalogue_hash: int) -> object:
        request = self.pb2.Request(sequence=0)
        request.hello.catalogue_hash = catalogue_hash
        self.sock.send(CONTROL_REQUEST + request.SerializeToString())
        reply = self._wait_reply()
        if reply.WhichOneof("result") != "ready":
            raise BenchError(f"Hello answered with {reply}")
        if reply.ready.clock != "step":
            raise BenchError(f"sil-sim runs the {reply.ready.clock} clock, not step")
        return reply

    def _wait_reply(self):
        recv_into, buffer = self.sock.recv_into, self.buffer
        while True:
            n = recv_into(buffer)
            if buffer[0] == CONTROL_REPLY_LO and buffer[1] == CONTROL_REPLY_HI:
                return self.pb2.Reply.FromString(bytes(buffer[2:n]))
            self.bus_datagrams += 1

    def block(self, n: int, latencies: list) -> float:
        """n round trips; appends each one's latency (ns) to latencies;
        returns the block's wall time in seconds."""
        sock_send, recv_into, buffer = self.sock.send, self.sock.recv_into, self.buffer
        request, parse = self.request, self.pb2.Reply.FromString
        clock = time.perf_counter_ns
        append = latencies.append
        discarded = 0
        sequence = self.sequence
        start = clock()
        for _ in range(n):
            sequence += 1
            request.sequence = sequence
            t0 = clock()
            sock_send(CONTROL_REQUEST + request.SerializeToString())
            while True:
                size = recv_into(buffer)
                if buffer[0] == CONTROL_REPLY_LO and buffer[1] == CONTROL_REPLY_HI:
                    break
                discarded += 1
            reply = parse(bytes(buffer[2:size]))
            append(clock() - t0)
            if reply.sequence != sequence or reply.advanced.ticks_run != 1:
                raise BenchError(f"round trip {sequence}: unexpected reply {reply}")
        elapsed = (clock() - start) / 1e9
        self.sequence = sequence
        self.bus_datagrams += discarded
        return elapsed


class PingPong:
    """The baseline: a 6-byte datagram to udp_echo and back."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray(65536)
        self.payload = b"\xd0\x07\x01\x00\x00\x00"

    def block(self, n: int, latencies: list) -> float:
        sock_send, recv_into, buffer, payload = self.sock.send, self.sock.recv_into, self.buffer, self.payload
        clock = time.perf_counter_ns
        append = latencies.append
        start = clock()
        for _ in range(n):
            t0 = clock()
            sock_send(payload)
            size = recv_into(buffer)
            append(clock() - t0)
            if size != 6:
                raise BenchError(f"udp_echo sent back {size} bytes, not 6")
        return (clock() - start) / 1e9


# Where the threads run for the lockstep comparison (the suffix of the result names).
PLACEMENTS = {
    "": "wherever the scheduler puts them",
    "_one_cpu": "every thread (Python, sil-sim's rx and sim threads, udp_echo) pinned to one CPU",
    "_split": "Python pinned to one CPU, sil-sim's threads and udp_echo to another",
}


def bench_lockstep(bins: dict, pb2, catalogue_hash: int, total: int, block_size: int, log,
                   placement: str = "") -> tuple[list, dict]:
    """placement "" leaves threads to the scheduler. "_one_cpu": no wakeup
    crosses CPUs, so a round trip costs the sum of the CPU time of every
    thread on its path: steady, and what the code (not the scheduler)
    costs. "_split": every client<->server wakeup crosses CPUs (an
    inter-processor interrupt and an idle exit, which in a VM can cost more
    than everything else in the round trip), sil-sim's own rx->sim handoff
    does not. Unpinned runs mix the two, depending on where the scheduler
    happens to put the threads."""
    blocks = max(5, total // block_size)
    original_affinity = os.sched_getaffinity(0)
    cpus = sorted(original_affinity)
    with Process(bins["sil-sim"], ["--clock", "step", "--egress", "batched", "--port", "0"]) as sim, \
            Process(bins["udp_echo"], []) as echo:
        if placement:
            server_cpu = cpus[0] if placement == "_one_cpu" else cpus[1]
            pin_processes([sim.pid, echo.pid], {server_cpu})
            os.sched_setaffinity(0, {cpus[0]})
        try:
            results, details = _lockstep_blocks(sim, echo, pb2, catalogue_hash, blocks, block_size, log, placement)
        finally:
            if placement:
                os.sched_setaffinity(0, original_affinity)
    details["placement"] = PLACEMENTS[placement]
    return results, details


def _lockstep_blocks(sim, echo, pb2, catalogue_hash: int, blocks: int, block_size: int, log,
                     suffix: str) -> tuple[list, dict]:
    with udp_socket(sim.port) as sim_sock, udp_socket(echo.port) as echo_sock:
        lockstep, ping = Lockstep(sim_sock, pb2), PingPong(echo_sock)
        lockstep.hello(catalogue_hash)
        lockstep.bus_datagrams = 0
        # Warm-up (caches, branch predictors, socket buffers), not counted.
        ping.block(min(block_size, 500), [])
        lockstep.block(min(block_size, 500), [])
        warm_rt, warm_dg = lockstep.sequence, lockstep.bus_datagrams
        raw_rates, step_rates, pair_ratios = [], [], []
        raw_lat, step_lat = [], []
        for b in range(blocks):
            # Alternate which goes first, so neither always follows the other.
            order = ("raw", "step") if b % 2 == 0 else ("step", "raw")
            rates = {}
            for which in order:
                if which == "raw":
                    rates[which] = block_size / ping.block(block_size, raw_lat)
                else:
                    rates[which] = block_size / lockstep.block(block_size, step_lat)
            raw_rates.append(rates["raw"])
            step_rates.append(rates["step"])
            pair_ratios.append(rates["step"] / rates["raw"])
            log(f"  block {b + 1}/{blocks}: raw {rates['raw']:9.0f}/s  lockstep {rates['step']:9.0f}/s  "
                f"ratio {rates['step'] / rates['raw']:.3f}")
        measured_rt = lockstep.sequence - warm_rt
        datagrams_per_rt = (lockstep.bus_datagrams - warm_dg) / measured_rt
    sim.stop()
    echo.stop()
    sim_report = sim.stopped_report() or {}
    raw_lat.sort()
    step_lat.sort()
    raw_rate, step_rate = statistics.median(raw_rates), statistics.median(step_rates)
    ratio = statistics.median(pair_ratios)
    us = 1e-3
    raw_p50, raw_p99 = percentile(raw_lat, 0.50) * us, percentile(raw_lat, 0.99) * us
    step_p50, step_p99 = percentile(step_lat, 0.50) * us, percentile(step_lat, 0.99) * us
    s = suffix
    raw_base = {"name": "raw_udp_ping_pong" + s, "value": raw_rate, "unit": "round_trips/s"}
    results = [
        entry("lockstep_round_trip" + s, step_rate, "round_trips/s", raw_base, ratio, bar=f"ratio >= {BAR_RATIO}"),
        entry("raw_udp_ping_pong" + s, raw_rate, "round_trips/s"),
        entry("lockstep_latency_p50" + s, step_p50, "us",
              {"name": "raw_udp_latency_p50" + s, "value": raw_p50, "unit": "us"}, step_p50 / raw_p50),
        entry("lockstep_latency_p99" + s, step_p99, "us",
              {"name": "raw_udp_latency_p99" + s, "value": raw_p99, "unit": "us"}, step_p99 / raw_p99),
        entry("raw_udp_latency_p50" + s, raw_p50, "us"),
        entry("raw_udp_latency_p99" + s, raw_p99, "us"),
    ]
    if not s:
        results.append(entry("lockstep_bus_datagrams_per_round_trip", datagrams_per_rt, "datagrams"))
    details = {
        "blocks": blocks, "block_size": block_size, "pair_ratios": pair_ratios,
        "raw_rates": raw_rates, "lockstep_rates": step_rates, "sim_stopped": sim_report,
    }
    return results, details




def run(ctx) -> list:
    total, block_size = (4000, 800) if ctx.quick else (20000, 2000)
    sil = import_sil(ctx.build)
    bins = {name: program(ctx.build, name) for name in ("sil-sim", "udp_echo")}
    pb2, source = import_control_pb2(ctx.tmp)
    ctx.log(f"{total} round trips each, blocks of {block_size}; protobuf: {source}")
    results = []
    for placement, what in PLACEMENTS.items():
        if placement and len(os.sched_getaffinity(0)) < 2:
            ctx.log(f"  (skipped: {what}: fewer than 2 CPUs available)")
            continue
        ctx.log(f"  threads: {what}")
        r, d = bench_lockstep(bins, pb2, sil.catalogue_hash, total, block_size, ctx.log, placement)
        results += r
        ctx.details["lockstep" + placement] = d
    return results
