#!/usr/bin/python3
"""sil's speed benchmarks. Run with Debian's /usr/bin/python3:

    PYTHONPATH=build-bench/python /usr/bin/python3 tests/bench/run.py --build build-bench [--quick]

(`make bench` does exactly that after a Release build.) Prints a table and
writes <build>/bench/results.json: a JSON list of
{"name", "value", "unit", "baseline", "ratio"}, where baseline is null or
{"name", "value", "unit"} measured in the same run, and ratio = value /
baseline value.

What it measures:
  a) lockstep_round_trip: one UDP socket drives `sil-sim --clock step` with
     Advance(ticks=1) requests, each answered by a Reply after the tick's bus
     datagrams; against raw_udp_ping_pong, the same interpreter bouncing a
     6-byte datagram off udp_echo. Blocks of the two alternate; rates and
     ratios are medians over the blocks (the ratio of each adjacent pair,
     then the median), so a machine busy with other work hits both alike.
     Three times: threads where the scheduler puts them (the plain names),
     all pinned to one CPU (*_one_cpu: what the code costs, steady), and
     client and servers on different CPUs (*_split: every client<->server
     wakeup crosses CPUs). Unpinned numbers swing between those two as the
     scheduler moves threads; see tests/bench/profile_lockstep.py.
  b) fast_mode_speed: `sil-sim --clock fast` left alone for a fixed wall
     time (no_peer), and the same with a Python consumer draining every
     datagram (with_consumer); simulated seconds per wall second from the
     ticks in its stopped line. Repetitions alternate.
  c) inproc_step: sil._core.InprocSim.advance(1) per call, against the
     cheapest comparable call into the same object (ticks_for(0)).

No timing here is asserted: the numbers are for people (and the bars the
issue sets are printed next to them). Every loop is bounded; a sim that stops
answering makes a receive time out (2 s) and the run fail with a message.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional

REPO = Path(__file__).resolve().parents[2]
RECV_TIMEOUT_S = 2.0
CONTROL_REQUEST = b"\xf0\xff"  # MsgId 0xFFF0, u16 LE
CONTROL_REPLY_LO, CONTROL_REPLY_HI = 0xF1, 0xFF  # MsgId 0xFFF1
REVISION_REQUEST = b"\xd0\x07" + struct.pack("<I", 1)  # MsgId 2000 + request_id

BAR_LOCKSTEP_RATIO = 0.8
BAR_FAST_SPEED = 10_000.0
BAR_INPROC_US = 5.0


class BenchError(RuntimeError):
    pass


# -- setup -------------------------------------------------------------------


def import_sil(build: Path):
    python_dir = build / "python"
    if str(python_dir) not in sys.path:
        sys.path.insert(0, str(python_dir))
    try:
        import sil  # noqa: F401
    except ImportError as error:
        raise BenchError(f"cannot import sil from {python_dir} (build first; PYTHONPATH={python_dir}): {error}")
    return sil


def import_control_pb2(tmp: Path):
    """sil.sil_control_pb2 from the build, else generated here with protoc."""
    try:
        from sil import sil_control_pb2

        return sil_control_pb2, "sil.sil_control_pb2 (build)"
    except ImportError:
        pass
    proto_dir = REPO / "sil" / "proto"
    out = tmp / "pb2"
    out.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(["protoc", f"--python_out={out}", "-I", str(proto_dir), "sil_control.proto"],
                       check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as error:
        raise BenchError(f"no sil.sil_control_pb2 in the build and protoc failed: {error}")
    sys.path.insert(0, str(out))
    import sil_control_pb2

    return sil_control_pb2, f"protoc --python_out={out} (generated at run time)"


class Process:
    """A program that prints a JSON ready line with "port" on stdout.
    sil.launcher.SimProcess when the package has it, else a minimal
    equivalent (read the ready line within a deadline; SIGTERM to stop)."""

    def __init__(self, path: Path, args: list[str], ready_timeout: float = 10.0) -> None:
        try:
            from sil.launcher import SimProcess
        except ImportError:
            SimProcess = None
        self._sim = None
        if SimProcess is not None:
            self._sim = SimProcess(path, args, ready_timeout=ready_timeout)
            self.port, self.pid = self._sim.port, self._sim.pid
            return
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen([str(path), *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=self._stderr)
        self.pid = self._proc.pid
        import selectors

        deadline = time.monotonic() + ready_timeout
        buffer = b""
        with selectors.DefaultSelector() as selector:
            selector.register(self._proc.stdout, selectors.EVENT_READ)
            while b"\n" not in buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or len(buffer) > 65536:
                    self.stop()
                    raise BenchError(f"{path} printed no ready line within {ready_timeout} s")
                if selector.select(remaining):
                    chunk = os.read(self._proc.stdout.fileno(), 4096)
                    if not chunk:
                        self.stop()
                        raise BenchError(f"{path} exited before it was ready: {self.stderr_text()}")
                    buffer += chunk
        self.port = json.loads(buffer.split(b"\n", 1)[0])["port"]

    def stop(self, timeout: float = 5.0) -> int:
        if self._sim is not None:
            return self._sim.stop(timeout)
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout)
        return self._proc.returncode

    def stderr_text(self) -> str:
        if self._sim is not None:
            return self._sim.stderr_text()
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def stopped_report(self) -> Optional[dict]:
        for line in reversed(self.stderr_text().splitlines()):
            if line.startswith("{") and '"stopped"' in line:
                try:
                    return json.loads(line)
                except ValueError:
                    return None
        return None

    def __enter__(self) -> "Process":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def udp_socket(port: int) -> socket.socket:
    """Connected to 127.0.0.1:port, blocking, with a kernel receive timeout
    (SO_RCVTIMEO) rather than Python's settimeout(): a Python timeout adds a
    poll() before every recv, this adds nothing per call and still bounds
    every wait (a timeout raises BlockingIOError)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.connect(("127.0.0.1", port))
    seconds = int(RECV_TIMEOUT_S)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                    struct.pack("ll", seconds, int((RECV_TIMEOUT_S - seconds) * 1e6)))
    return sock


def percentile(sorted_values: list, q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


# -- a) lockstep round trip against raw UDP ping-pong ------------------------


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


def pin_processes(pids: list, cpus: set) -> None:
    """Every thread of each pid onto cpus."""
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                os.sched_setaffinity(int(task.name), cpus)
            except (OSError, ValueError):
                pass


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
    with Process(bins["sil-sim"], ["--clock", "step", "--port", "0"]) as sim, \
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
        entry("lockstep_round_trip" + s, step_rate, "round_trips/s", raw_base, ratio),
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


# -- b) fast clock speed -----------------------------------------------------


def udp_rcvbuf_errors() -> Optional[int]:
    """System-wide UDP RcvbufErrors (datagrams the kernel dropped because a
    receiver's buffer was full); other processes' drops count too."""
    try:
        lines = [line.split() for line in Path("/proc/net/snmp").read_text().splitlines() if line.startswith("Udp:")]
        return int(lines[1][lines[0].index("RcvbufErrors")])
    except (OSError, ValueError, IndexError):
        return None


def fast_run(bins: dict, rate: int, seconds: float, consumer: bool) -> dict:
    with Process(bins["sil-sim"], ["--clock", "fast", "--rate", str(rate), "--port", "0"]) as sim:
        drops_before = udp_rcvbuf_errors()
        received = 0
        start = time.monotonic()
        deadline = start + seconds
        if consumer:
            with udp_socket(sim.port) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, 100_000))
                buffer = bytearray(65536)
                recv_into = sock.recv_into
                sock.send(REVISION_REQUEST)  # any valid datagram makes this socket the peer
                now = time.monotonic
                while now() < deadline:
                    for _ in range(256):
                        try:
                            recv_into(buffer)
                        except BlockingIOError:  # 100 ms without a datagram
                            break
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


def bench_fast(bins: dict, seconds: float, reps: int, log) -> tuple[list, dict]:
    rate = 100
    runs: dict[str, list] = {"no_peer": [], "with_consumer": []}
    for r in range(reps):
        order = ("no_peer", "with_consumer") if r % 2 == 0 else ("with_consumer", "no_peer")
        for variant in order:
            run = fast_run(bins, rate, seconds, variant == "with_consumer")
            runs[variant].append(run)
            extra = (f"  delivered {run['received_per_s']:9.0f}/s  sent {run['tx_sent_per_s']:9.0f}/s  "
                     f"tx_errors {run['tx_errors']}  kernel drops {run['kernel_rcvbuf_drops']}"
                     if variant == "with_consumer" else "")
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
        entry("fast_mode_speed_no_peer", med["no_peer"], "sim_s/wall_s"),
        entry("fast_mode_speed_with_consumer", med["with_consumer"], "sim_s/wall_s", no_peer_base,
              statistics.median(pair_ratios)),
        entry("fast_mode_with_consumer_delivered", delivered, "datagrams/s",
              {"name": "fast_mode_with_consumer_sent", "value": sent, "unit": "datagrams/s"},
              statistics.median(c["received_per_s"] / c["tx_sent_per_s"] for c in consumer if c["tx_sent_per_s"])
              if sent else None),
        entry("fast_mode_with_consumer_tx_errors", tx_errors, "datagrams"),
    ]
    if drops:
        results.append(entry("fast_mode_with_consumer_kernel_rcvbuf_drops", statistics.median(drops), "datagrams"))
    return results, {"rate_hz": rate, "seconds": seconds, "runs": runs}


# -- c) in-process stepping --------------------------------------------------


def bench_inproc(core, calls: int, blocks: int, log) -> tuple[list, dict]:
    InprocSim = getattr(core, "InprocSim", None)
    if InprocSim is None:
        reason = "sil._core has no InprocSim in this build"
        log(f"  skipped: {reason}")
        return [entry("inproc_step", None, "us/call", skipped=reason)], {"skipped": reason}
    probe = InprocSim(100)
    step_name = next((n for n in ("advance", "step", "tick") if callable(getattr(probe, n, None))), None)
    if step_name is None:
        reason = f"InprocSim has no advance/step/tick method (has {[n for n in dir(probe) if not n.startswith('_')]})"
        log(f"  skipped: {reason}")
        return [entry("inproc_step", None, "us/call", skipped=reason)], {"skipped": reason}
    floor_name = "ticks_for" if callable(getattr(probe, "ticks_for", None)) else None
    del probe

    def time_calls(fn: Callable, arg) -> float:
        clock = time.perf_counter_ns
        start = clock()
        for _ in range(calls):
            fn(arg)
        return (clock() - start) / 1e3 / calls

    step_us, floor_us, pair_ratios = [], [], []
    for b in range(blocks):
        # A fresh sim per block: InprocSim records every publication, so one
        # sim stepped for the whole run would keep growing.
        sim = InprocSim(100)
        step = getattr(sim, step_name)
        for _ in range(1000):  # warm-up
            step(1)
        floor = getattr(sim, floor_name) if floor_name else None
        measured = {}
        for which in (("step", "floor") if b % 2 == 0 else ("floor", "step")):
            if which == "step":
                measured["step"] = time_calls(step, 1)
            elif floor is not None:
                measured["floor"] = time_calls(floor, 0)
        step_us.append(measured["step"])
        if "floor" in measured:
            floor_us.append(measured["floor"])
            pair_ratios.append(measured["step"] / measured["floor"])
        log(f"  block {b + 1}/{blocks}: {step_name}(1) {measured['step']:.3f} us/call"
            + (f"  {floor_name}(0) {measured['floor']:.3f} us/call" if "floor" in measured else ""))
        del sim
    base = ({"name": f"inproc_call_floor ({floor_name}(0))", "value": statistics.median(floor_us), "unit": "us/call"}
            if floor_us else None)
    results = [entry("inproc_step", statistics.median(step_us), "us/call", base,
                     statistics.median(pair_ratios) if pair_ratios else None)]
    return results, {"method": f"{step_name}(1)", "calls_per_block": calls, "blocks": blocks}


# -- output ------------------------------------------------------------------


def entry(name: str, value, unit: str, baseline: Optional[dict] = None, ratio: Optional[float] = None,
          skipped: Optional[str] = None) -> dict:
    result = {"name": name, "value": value, "unit": unit, "baseline": baseline, "ratio": ratio}
    if skipped is not None:
        result["skipped"] = skipped
    return result


def fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value != value:
            return "nan"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


BARS = {
    "lockstep_round_trip": f"ratio >= {BAR_LOCKSTEP_RATIO}",
    "lockstep_round_trip_one_cpu": f"ratio >= {BAR_LOCKSTEP_RATIO}",
    "lockstep_round_trip_split": f"ratio >= {BAR_LOCKSTEP_RATIO}",
    "fast_mode_speed_no_peer": f"> {BAR_FAST_SPEED:,.0f}x",
    "inproc_step": f"< {BAR_INPROC_US} us",
}


def bar_met(result: dict) -> str:
    name, value, ratio = result["name"], result["value"], result["ratio"]
    if value is None:
        return "skipped"
    if name.startswith("lockstep_round_trip"):
        return "yes" if ratio is not None and ratio >= BAR_LOCKSTEP_RATIO else "NO"
    if name == "fast_mode_speed_no_peer":
        return "yes" if value > BAR_FAST_SPEED else "NO"
    if name == "inproc_step":
        return "yes" if value < BAR_INPROC_US else "NO"
    return ""


def print_table(results: list) -> None:
    rows = [("name", "value", "unit", "baseline", "baseline value", "ratio", "bar", "met")]
    for r in results:
        base = r["baseline"] or {}
        rows.append((r["name"], fmt(r["value"]), r["unit"], base.get("name", "-"), fmt(base.get("value")),
                     fmt(r["ratio"]) if r["ratio"] is None else f"{r['ratio']:.3f}", BARS.get(r["name"], ""),
                     bar_met(r) if r["name"] in BARS else ""))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        print("  ".join(cell.ljust(w) if j in (0, 2, 3, 6, 7) else cell.rjust(w)
                        for j, (cell, w) in enumerate(zip(row, widths))).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    for r in results:
        if r.get("skipped"):
            print(f"{r['name']}: skipped: {r['skipped']}")


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", type=Path, default=REPO / "build-bench",
                        help="build directory with bin/sil-sim, bin/udp_echo and python/ (default: build-bench)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and shorter runs (a smoke test)")
    parser.add_argument("--only", choices=("lockstep", "fast", "inproc"), action="append",
                        help="run only this part (repeatable)")
    args = parser.parse_args(argv)
    build = args.build.resolve()
    parts = set(args.only or ("lockstep", "fast", "inproc"))

    bins = {name: build / "bin" / name for name in ("sil-sim", "udp_echo")}
    for name, path in bins.items():
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise BenchError(f"no {name} at {path}; build first (make bench)")
    sil = import_sil(build)
    from sil import _core as core

    def log(text: str) -> None:
        print(text, flush=True)

    if args.quick:
        total, block_size, fast_seconds, fast_reps, inproc_calls, inproc_blocks = 4000, 800, 1.0, 3, 20_000, 5
    else:
        total, block_size, fast_seconds, fast_reps, inproc_calls, inproc_blocks = 20000, 2000, 3.0, 5, 100_000, 7

    try:
        load = os.getloadavg()
    except OSError:
        load = None
    print(f"sil benchmarks{' (quick)' if args.quick else ''}: build {build}, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs, load average {load}")
    results, details = [], {"quick": args.quick, "load_average_before": load}
    with tempfile.TemporaryDirectory(prefix="sil-bench-") as tmp:
        if "lockstep" in parts:
            pb2, source = import_control_pb2(Path(tmp))
            print(f"a) lockstep round trip vs raw UDP ping-pong ({total} each, blocks of {block_size}; "
                  f"protobuf: {source})")
            for placement, what in PLACEMENTS.items():
                if placement and len(os.sched_getaffinity(0)) < 2:
                    print(f"  (skipped: {what}: fewer than 2 CPUs available)")
                    continue
                print(f"  threads: {what}")
                r, d = bench_lockstep(bins, pb2, sil.catalogue_hash, total, block_size, log, placement)
                results += r
                details["lockstep" + placement] = d
        if "fast" in parts:
            print(f"b) fast clock, --rate 100, {fast_seconds:g} s per run, {fast_reps} runs per variant")
            r, d = bench_fast(bins, fast_seconds, fast_reps, log)
            results += r
            details["fast"] = d
        if "inproc" in parts:
            print(f"c) in-process stepping ({inproc_calls} calls per block, {inproc_blocks} blocks)")
            r, d = bench_inproc(core, inproc_calls, inproc_blocks, log)
            results += r
            details["inproc"] = d
    try:
        details["load_average_after"] = os.getloadavg()
    except OSError:
        pass

    print()
    print_table(results)
    out_dir = build / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out_dir / "details.json").write_text(json.dumps(details, indent=2, default=str) + "\n")
    print(f"\nwrote {out_dir / 'results.json'} (and details.json: every block and run)")
    print("Timings are medians of interleaved repetitions; other work on this machine moves them.")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        sys.exit(1)
    except BlockingIOError:
        print("bench: a receive timed out (no answer within the socket's receive timeout)", file=sys.stderr)
        sys.exit(1)
