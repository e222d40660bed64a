"""Memory of sil-sim: peak RSS idle and under load, and whether it grows.

idle: `sil-sim` (realtime clock, the example system, nobody connected) for
IDLE_S seconds. Under load: `sil-sim --clock fast` with a Python peer
draining every datagram it sends (the fast clock sends as fast as loopback
allows: its rate is reported next to the numbers) for LOAD_S seconds
(--quick: shorter). VmRSS and VmHWM are read from /proc/PID/status every
SAMPLE_S; growth = VmRSS at the end minus VmRSS once the run is warm (after
WARM_FRACTION of it), in kB: the bar is zero.
"""

from __future__ import annotations

import socket
import struct
import time
from pathlib import Path

from common import REVISION_REQUEST, SIM, BenchError, Process, entry, program, udp_socket

GROUP = "memory"
SAMPLE_S = 0.25
WARM_FRACTION = 0.2
IDLE_S = 3.0


def memory_kb(pid: int) -> dict:
    """{"VmRSS": kB, "VmHWM": kB} of a live process."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


def watch(sim: Process, seconds: float, drain: socket.socket = None) -> tuple:
    """Samples the sim's memory for `seconds`, draining `drain` meanwhile if
    given. Returns (samples [(t, VmRSS, VmHWM)], datagrams drained)."""
    samples, received = [], 0
    buffer = bytearray(2048)
    start = time.monotonic()
    next_sample = start
    while True:
        now = time.monotonic()
        if now >= next_sample:
            m = memory_kb(sim.pid)
            samples.append((now - start, m["VmRSS"], m["VmHWM"]))
            next_sample += SAMPLE_S
            if now - start >= seconds:
                break
        if drain is None:
            time.sleep(max(0.0, next_sample - time.monotonic()))
            continue
        for _ in range(512):  # bounded between samples
            try:
                drain.recv_into(buffer)
            except BlockingIOError:  # the receive timeout: nothing for 50 ms
                break
            received += 1
    return samples, received


def growth_kb(samples: list, seconds: float) -> int:
    warm = next(rss for t, rss, _ in samples if t >= seconds * WARM_FRACTION)
    return samples[-1][1] - warm


def run(ctx) -> list:
    load_s = 5.0 if ctx.quick else 30.0
    sim_bin = program(ctx.build, SIM)
    ctx.log(f"idle {IDLE_S:g} s, then --clock fast with a draining peer for {load_s:g} s; "
            f"/proc/PID/status every {SAMPLE_S} s")
    with Process(sim_bin, ["--port", "0"]) as sim:
        idle, _ = watch(sim, IDLE_S)
    with Process(sim_bin, ["--clock", "fast", "--rate", "100", "--port", "0"]) as sim:
        with udp_socket(sim.port) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, 50_000))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            sock.send(REVISION_REQUEST)  # any valid datagram makes this socket the peer
            started = time.monotonic()
            loaded, received = watch(sim, load_s, sock)
            elapsed = time.monotonic() - started
            sim.stop()
        report = sim.stopped_report()
    if report is None:
        raise BenchError("sil-sim (fast clock) wrote no stopped line")
    sent_rate = report.get("tx_sent", 0) / elapsed
    ctx.details["memory"] = {"idle": idle, "loaded": loaded, "sent_per_s": sent_rate,
                             "received_per_s": received / elapsed}
    ctx.log(f"  idle: peak {idle[-1][2]} kB; loaded: peak {loaded[-1][2]} kB, sent {sent_rate:,.0f}/s, "
            f"drained {received / elapsed:,.0f}/s; RSS {loaded[0][1]} -> {loaded[-1][1]} kB")
    return [
        entry("sil_sim_peak_rss_idle", idle[-1][2], "kB"),
        entry("sil_sim_peak_rss_loaded", loaded[-1][2], "kB"),
        entry("sil_sim_loaded_send_rate", sent_rate, "messages/s", bar=">= 100000"),
        entry("sil_sim_rss_growth_idle", growth_kb(idle, IDLE_S), "kB", bar="<= 0"),
        entry(f"sil_sim_rss_growth_loaded_{load_s:g}s", growth_kb(loaded, load_s), "kB", bar="<= 0"),
    ]
