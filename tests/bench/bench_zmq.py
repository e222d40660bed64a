"""The same 65-byte telemetry stream from a C++ publisher to a Python
consumer, over libzmq PUB/SUB (ipc:// and tcp://) and over this bridge with
the Python client: messages/s delivered, and p50 latency at a paced rate.

The publisher is tests/bench/cpp/telemetry_pub.cpp: a RevisionResponse with
the sequence number and the send time (CLOCK_MONOTONIC) in it, sent by
bus.publish -> UdpBridge, or by a blocking zmq_send on an XPUB socket with
ZMQ_XPUB_NODROP (otherwise default options), so ZeroMQ delivers everything
at the pace of its consumer, while UDP drops what the consumer cannot take:
either way, messages/s delivered is what the Python side keeps up with. The consumer
runs here: pyzmq (Debian's python3-zmq) recv + struct.unpack of the two
fields it needs, or sil.SimClient handing decoded RevisionResponse objects
(through its batched ingest receiver when the build has one; see
BRIDGE_CONSUMERS). Two runs per transport and repetition, transports
interleaved:
  throughput  the publisher unpaced; delivered = messages received / time
              from the first to the last, so the consumer's speed shows;
  latency     paced at LATENCY_RATE msg/s (well below every consumer's
              ceiling); p50 of receive time - send time.
The ratio is the bridge's over ZeroMQ's, per repetition, median.
"""

from __future__ import annotations

import json
import os
import selectors
import statistics
import struct
import subprocess
import time
from pathlib import Path

from common import BenchError, baseline, entry, import_sil, percentile, program

GROUP = "zmq"
LATENCY_RATE = 10_000
IDLE_S = 0.3           # the stream is over after this long without a message
START_TIMEOUT_S = 10.0  # the first message must come by then
PAYLOAD = struct.Struct("<I44xq")  # RevisionResponse: request_id, 44 bytes, build_time_unix (the send time)


class Publisher:
    """telemetry_pub, its ready line read within a deadline; always reaped."""

    def __init__(self, binary: Path, args: list) -> None:
        self.proc = subprocess.Popen([str(binary), *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.ready = json.loads(self._line(START_TIMEOUT_S))

    def _line(self, timeout: float) -> bytes:
        buffer = b""
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            while b"\n" not in buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    self.close()
                    raise BenchError(f"telemetry_pub printed nothing within {timeout} s")
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    self.close()
                    raise BenchError(f"telemetry_pub exited: {self.proc.stderr.read().decode(errors='replace')}")
                buffer += chunk
        return buffer.split(b"\n", 1)[0]

    def finish(self) -> dict:
        """The done line ({"sent", "seconds"})."""
        try:
            out, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.close()
            raise BenchError("telemetry_pub did not finish within 30 s")
        if self.proc.returncode != 0:
            raise BenchError(f"telemetry_pub failed: {err.decode(errors='replace')}")
        return json.loads(out.splitlines()[-1])

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)

    def __enter__(self) -> "Publisher":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Tally:
    """What a consumer saw: count, first/last arrival, latencies (ns)."""

    def __init__(self) -> None:
        self.received = 0
        self.first = self.last = 0
        self.latencies: list = []

    def add(self, now: int, sent_at: int) -> None:
        if not self.received:
            self.first = now
        self.received += 1
        self.last = now
        self.latencies.append(now - sent_at)

    def rate(self) -> float:
        return (self.received - 1) / ((self.last - self.first) / 1e9) if self.received > 1 and self.last > self.first \
            else 0.0


def consume_zmq(zmq, endpoint: str, count: int) -> Tally:
    tally = Tally()
    context = zmq.Context()
    sub = context.socket(zmq.SUB)
    try:
        sub.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        sub.connect(endpoint)
        recv, unpack, clock, again = sub.recv, PAYLOAD.unpack_from, time.monotonic_ns, zmq.Again
        sub.setsockopt(zmq.RCVTIMEO, int(START_TIMEOUT_S * 1000))
        while tally.received < count:
            try:
                message = recv()
            except again:
                break
            _, sent_at = unpack(message)
            tally.add(clock(), sent_at)
            if tally.received == 1:
                sub.setsockopt(zmq.RCVTIMEO, int(IDLE_S * 1000))
    finally:
        sub.close()
        context.term()
    return tally


def consume_with_ingest(client, count: int) -> Tally:
    """SimClient.ingest(): a C++ thread receives with recvmmsg, Python takes
    decoded messages in batches."""
    tally = Tally()
    clock = time.monotonic_ns
    with client.ingest() as receiver:
        deadline = time.monotonic() + START_TIMEOUT_S
        while tally.received < count:
            batch = receiver.take(IDLE_S)
            if not batch:
                if tally.received or time.monotonic() > deadline:
                    break
                continue
            now = clock()
            for message in batch:
                tally.add(now, message.build_time_unix)
    return tally


def consume_with_collect(client, count: int) -> Tally:
    """SimClient.collect(): the client's plain receive path, one recv per
    datagram in Python."""
    from sil import RevisionResponse

    tally = Tally()
    clock = time.monotonic_ns
    deadline = time.monotonic() + START_TIMEOUT_S
    idle_since = time.monotonic()
    while tally.received < count:
        batch = client.collect(0.02, RevisionResponse)
        if not batch:
            if (tally.received and time.monotonic() - idle_since > IDLE_S) or time.monotonic() > deadline:
                break
            continue
        idle_since = time.monotonic()
        now = clock()
        for message in batch:
            tally.add(now, message.build_time_unix)
    return tally


# Which SimClient receive path the bridge side uses: the first available.
BRIDGE_CONSUMERS = {"ingest": consume_with_ingest, "collect": consume_with_collect}


def bridge_consumer(sil) -> str:
    wanted = os.environ.get("SIL_BENCH_BRIDGE_CONSUMER")
    if wanted:
        if wanted not in BRIDGE_CONSUMERS:
            raise BenchError(f"SIL_BENCH_BRIDGE_CONSUMER={wanted}: one of {', '.join(BRIDGE_CONSUMERS)}")
        return wanted
    return "ingest" if callable(getattr(sil.SimClient, "ingest", None)) else "collect"


def run_once(ctx, zmq, sil, transport: str, count: int, rate: int, consumer: str) -> tuple:
    """(Tally, messages the publisher sent)."""
    binary = program(ctx.build, "telemetry_pub")
    args = ["--count", str(count), "--rate", str(rate)]
    if transport == "sil":
        with Publisher(binary, ["--transport", "sil", *args]) as publisher:
            with sil.SimClient("127.0.0.1", publisher.ready["port"]) as client:
                client.send(sil.RevisionRequest(request_id=0))  # makes this client the bridge's peer
                tally = BRIDGE_CONSUMERS[consumer](client, count)
            return tally, publisher.finish()["sent"]
    endpoint = (f"ipc://{ctx.tmp}/zmq-{os.getpid()}.sock" if transport == "zmq_ipc"
                else f"tcp://127.0.0.1:{free_tcp_port()}")
    with Publisher(binary, ["--transport", "zmq", "--endpoint", endpoint, *args]) as publisher:
        tally = consume_zmq(zmq, endpoint, count)
        return tally, publisher.finish()["sent"]


def free_tcp_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(ctx) -> list:
    try:
        import zmq
    except ImportError as error:
        raise BenchError(f"no pyzmq (Debian: python3-zmq): {error}")
    sil = import_sil(ctx.build)
    consumer = bridge_consumer(sil)
    reps, count, latency_count = (5, 20_000, 2_000) if ctx.quick else (5, 100_000, 5_000)
    transports = ("sil", "zmq_ipc", "zmq_tcp")
    ctx.log(f"{reps} repetitions; throughput: {count} messages unpaced; latency: {latency_count} at "
            f"{LATENCY_RATE}/s; bridge consumer: SimClient via {consumer}")
    rates = {t: [] for t in transports}
    p50s = {t: [] for t in transports}
    delivered = {t: [] for t in transports}
    for r in range(reps):
        order = transports[r % 3:] + transports[:r % 3]
        for transport in order:
            tally, sent = run_once(ctx, zmq, sil, transport, count, 0, consumer)
            rates[transport].append(tally.rate())
            delivered[transport].append(tally.received / sent if sent else 0.0)
            lat, lat_sent = run_once(ctx, zmq, sil, transport, latency_count, LATENCY_RATE, consumer)
            lat.latencies.sort()
            p50s[transport].append(percentile(lat.latencies, 0.5) / 1e3)
            ctx.log(f"  rep {r + 1}/{reps} {transport:8s}: {tally.rate():9.0f} msg/s delivered "
                    f"({tally.received}/{sent}); paced: p50 {p50s[transport][-1]:7.1f} us, "
                    f"{lat.received}/{lat_sent} received")
    ctx.details["zmq"] = {"consumer": consumer, "rates": rates, "p50_us": p50s, "delivered_fraction": delivered}
    results = []
    bridge_name = f"sil_bridge_to_python_{consumer}"
    for transport in ("zmq_ipc", "zmq_tcp"):
        results.append(entry(f"{bridge_name}_msgs_per_s_vs_{transport}", statistics.median(rates["sil"]), "messages/s",
                             baseline(f"{transport}_to_python", statistics.median(rates[transport]), "messages/s"),
                             statistics.median(s / z for s, z in zip(rates["sil"], rates[transport]) if z)))
    for transport in ("zmq_ipc", "zmq_tcp"):
        results.append(entry(f"{bridge_name}_p50_vs_{transport}", statistics.median(p50s["sil"]), "us (lower is better)",
                             baseline(f"{transport}_p50", statistics.median(p50s[transport]), "us"),
                             statistics.median(s / z for s, z in zip(p50s["sil"], p50s[transport]) if z)))
    results.append(entry(f"{bridge_name}_delivered_fraction_unpaced", statistics.median(delivered["sil"]), "of sent"))
    for transport in ("zmq_ipc", "zmq_tcp"):
        results.append(entry(f"{transport}_delivered_fraction_unpaced", statistics.median(delivered[transport]),
                             "of sent"))
    return results
