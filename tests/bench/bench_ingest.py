"""Python harness ingest: the same Heartbeat stream from udp_blast (a C++
sender on loopback) received five ways:

  plain    a Python loop: socket.recv + struct.unpack per datagram (the
           baseline a user would write)
  objects  sil._core.Receiver (recvmmsg on a C++ thread, GIL released),
           take() decoding each batch into Heartbeat objects
  arrays   the same receiver, take_arrays(): one numpy structured array per batch
  *_gro    the same with the receiver's UDP_GRO on: the sender's GSO runs
           arrive whole (one receive per 64 datagrams) and are split by
           the receiver; the plain loop's socket gets them one by one

Throughput is measured on a backlog: udp_blast fills the socket's buffer
(as many datagrams as it holds, found once at the start, less a margin),
then the receiver consumes them all, timed from its start to the last
message. That is what the consumer costs per message, whatever the sender
manages (loopback sendmsg on a busy 2-core machine cannot outrun a batched
receiver, so a live stream would measure the sender). Blocks of the five
alternate (the order rotates); ratios are medians of the per-block ratios.

udp_blast sends with UDP GSO (one sendmsg per 64 datagrams; the receiver
still gets one datagram per message): one sendmsg per datagram on this
class of machine manages only 130,000-170,000/s.

Then the sustained test: udp_blast paced at 400,000 messages/s for 5 s
(--quick: 1 s) into the receiver, consumed with take_arrays() (and again
with take()); loss comes from the sequence numbers in the payload
(sil.ingest.SequenceTracker, plus the tail: sent - received), cross-checked
with the receiver's kernel_drops and ring_overruns. Every socket asks for
an 8 MiB SO_RCVBUF, as a real client would; the kernel caps it at
net.core.rmem_max and the granted size is reported.

Standalone: PYTHONPATH=<build>/python /usr/bin/python3 tests/bench/run.py --build <build> --only ingest
"""

from __future__ import annotations

import json
import socket
import statistics
import struct
import subprocess
import time
from pathlib import Path

from common import BenchError, entry, import_sil, program

GROUP = "ingest"
BAR_RATIO = 2.0
SUSTAINED_RATE = 400_000
RECEIVE_BUFFER = 8 << 20
IDLE_END_S = 0.3  # after the sender exits, this long with nothing arriving ends a block
BLOCK_LIMIT_S = 30.0  # no block runs longer, whatever happens
HEARTBEAT = struct.Struct("<HIQQ")  # MsgId, sequence, tick, sim_time_ns


def rx_socket() -> tuple[socket.socket, int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
    # A kernel timeout bounds every recv without a poll() per datagram.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, 100_000))
    return sock, sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)


class Blast:
    """One udp_blast run; .done() parses its final line once it exited."""

    def __init__(self, binary: Path, port: int, count: int, rate: int = 0, batch: int = 64) -> None:
        self.started = time.perf_counter()
        # GSO: one sendmsg per burst, so the sender is not the bottleneck
        # (the receiver still gets one datagram per message).
        self.proc = subprocess.Popen([str(binary), "--port", str(port), "--count", str(count), "--rate", str(rate),
                                      "--batch", str(batch), "--gso", "1"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def finished(self) -> bool:
        return self.proc.poll() is not None

    def result(self) -> dict:
        try:
            out, err = self.proc.communicate(timeout=BLOCK_LIMIT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            raise BenchError("udp_blast did not finish")
        if self.proc.returncode != 0:
            raise BenchError(f"udp_blast failed ({self.proc.returncode}): {err.decode(errors='replace')[-300:]}")
        return json.loads(out.decode().strip().splitlines()[-1])

    def __enter__(self) -> "Blast":
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def fill(blast_bin: Path, port: int, count: int) -> dict:
    """Sends count datagrams to port and waits until they are all sent."""
    with Blast(blast_bin, port, count) as blast:
        return blast.result()


def consume_plain(sock: socket.socket, count: int) -> tuple[int, float, float]:
    """(received, seconds, CPU seconds of this process) for a recv + unpack
    loop over the backlog."""
    recv, unpack = sock.recv, HEARTBEAT.unpack
    clock = time.perf_counter
    sock.setblocking(False)
    received = 0
    cpu, start = time.process_time(), clock()
    try:
        for _ in range(count):
            msg_id, sequence, tick, sent_ns = unpack(recv(2048))
            received += 1
    except BlockingIOError:
        pass
    return received, clock() - start, time.process_time() - cpu


def consume_batched(receiver, take, count_of, count: int) -> tuple[int, float, float]:
    """The same through a Receiver; the CPU time includes its thread."""
    clock = time.perf_counter
    received = 0
    cpu, start = time.process_time(), clock()
    receiver.start()
    deadline = start + BLOCK_LIMIT_S
    last = start
    while received < count and clock() < deadline:
        batch = take(0.1)
        if batch:
            received += count_of(batch)
            last = clock()
        elif clock() - last > IDLE_END_S:
            break  # fewer than count were there
    return received, last - start, time.process_time() - cpu


def receive_batched(blast: Blast, take, count_of) -> tuple[int, float]:
    """(received, seconds from sender start to the last batch)."""
    clock = time.perf_counter
    received, last, idle_since = 0, blast.started, None
    limit = blast.started + BLOCK_LIMIT_S
    while True:
        batch = take(0.1)
        now = clock()
        if batch:
            received += count_of(batch)
            last, idle_since = now, None
            continue
        idle_since = idle_since or now
        if (blast.finished() and now - idle_since >= IDLE_END_S) or now > limit:
            break
    return received, last - blast.started


def rows(arrays: dict) -> int:
    return sum(len(a) for a in arrays.values())


def run(ctx) -> list:
    import_sil(ctx.build)
    from sil import Heartbeat, Receiver, message_dtype
    from sil.ingest import SequenceTracker

    blast_bin = program(ctx.build, "udp_blast")
    rmem_path = Path("/proc/sys/net/core/rmem_max")
    rmem_max = int(rmem_path.read_text()) if rmem_path.exists() else None
    blocks = 5 if ctx.quick else 15
    rates = {"plain": [], "objects": [], "arrays": [], "objects_gro": [], "arrays_gro": []}
    cpu_rates = {name: [] for name in rates}  # messages per CPU second of this process (all its threads)
    lost = {name: [] for name in rates}
    granted = None

    message_dtype(Heartbeat)  # imports numpy now, not inside the first timed block
    # How many datagrams the socket buffer holds: fill one, count, keep 80 %.
    sock, granted = rx_socket()
    with sock:
        fill(blast_bin, sock.getsockname()[1], 40_000)
        held, _, _ = consume_plain(sock, 40_000)
    count = max(1000, held * 4 // 5)
    ctx.log(f"  SO_RCVBUF granted {granted} bytes (rmem_max {rmem_max}): holds {held} datagrams; "
            f"{count} per block")

    for b in range(blocks):
        order = list(rates)[b % len(rates):] + list(rates)[:b % len(rates)]
        for variant in order:
            sock, granted = rx_socket()
            with sock:
                if variant == "plain":
                    fill(blast_bin, sock.getsockname()[1], count)
                    received, seconds, cpu = consume_plain(sock, count)
                else:
                    receiver = Receiver(sock.fileno(), receive_buffer=RECEIVE_BUFFER,  # started once filled
                                        gro=variant.endswith("_gro"))
                    try:
                        fill(blast_bin, sock.getsockname()[1], count)
                        take, count_of = ((receiver.take, len) if variant.startswith("objects")
                                          else (receiver.take_arrays, rows))
                        received, seconds, cpu = consume_batched(receiver, take, count_of, count)
                    finally:
                        receiver.close()
            rates[variant].append(received / seconds if seconds > 0 else float("nan"))
            cpu_rates[variant].append(received / cpu if cpu > 0 else float("nan"))
            lost[variant].append(count - received)
        ctx.log(f"  block {b + 1}/{blocks}: " + "  ".join(
            f"{v} {rates[v][-1]:,.0f}/s ({cpu_rates[v][-1]:,.0f}/cpu_s, lost {lost[v][-1]})" for v in rates))

    def ratio(variant, of=rates):
        return statistics.median(r / p for r, p in zip(of[variant], of["plain"]))

    plain = statistics.median(rates["plain"])
    base = {"name": "ingest_plain_python", "value": plain, "unit": "messages/s"}
    results = [
        entry("ingest_plain_python", plain, "messages/s"),
        entry("ingest_batched_objects", statistics.median(rates["objects"]), "messages/s", base, ratio("objects"),
              bar=f"ratio >= {BAR_RATIO:g}"),
        entry("ingest_batched_arrays", statistics.median(rates["arrays"]), "messages/s", base, ratio("arrays"),
              bar=f"ratio >= {BAR_RATIO:g}"),
        entry("ingest_batched_objects_gro", statistics.median(rates["objects_gro"]), "messages/s", base,
              ratio("objects_gro"), bar=f"ratio >= {BAR_RATIO:g}"),
        entry("ingest_batched_arrays_gro", statistics.median(rates["arrays_gro"]), "messages/s", base,
              ratio("arrays_gro"), bar=f"ratio >= {BAR_RATIO:g}"),
    ]
    # The same per CPU second: what each way costs, less moved by other
    # work on the machine than the wall-clock rates.
    cpu_base = {"name": "ingest_plain_python_per_cpu_s", "value": statistics.median(cpu_rates["plain"]),
                "unit": "messages/cpu_s"}
    results += [
        entry("ingest_plain_python_per_cpu_s", cpu_base["value"], "messages/cpu_s"),
        entry("ingest_batched_objects_per_cpu_s", statistics.median(cpu_rates["objects"]), "messages/cpu_s",
              cpu_base, ratio("objects", cpu_rates)),
        entry("ingest_batched_arrays_per_cpu_s", statistics.median(cpu_rates["arrays"]), "messages/cpu_s",
              cpu_base, ratio("arrays", cpu_rates)),
        entry("ingest_batched_objects_gro_per_cpu_s", statistics.median(cpu_rates["objects_gro"]), "messages/cpu_s",
              cpu_base, ratio("objects_gro", cpu_rates)),
        entry("ingest_batched_arrays_gro_per_cpu_s", statistics.median(cpu_rates["arrays_gro"]), "messages/cpu_s",
              cpu_base, ratio("arrays_gro", cpu_rates)),
    ]

    # -- sustained ------------------------------------------------------------
    seconds = 1 if ctx.quick else 5
    total = SUSTAINED_RATE * seconds
    sustained = {}
    for variant in ("arrays", "objects", "arrays_gro"):
        sock, granted = rx_socket()
        tracker = SequenceTracker()
        gro = variant.endswith("_gro")
        with sock, Receiver(sock.fileno(), receive_buffer=RECEIVE_BUFFER, gro=gro) as receiver, \
                Blast(blast_bin, sock.getsockname()[1], total, rate=SUSTAINED_RATE, batch=32) as blast:
            if variant.startswith("arrays"):
                def take(timeout, receiver=receiver, tracker=tracker):
                    arrays = receiver.take_arrays(timeout)
                    if Heartbeat in arrays:
                        tracker.update(arrays[Heartbeat]["sequence"])
                    return arrays
                received, wall = receive_batched(blast, take, rows)
            else:
                def take(timeout, receiver=receiver, tracker=tracker):
                    batch = receiver.take(timeout)
                    tracker.update([m.sequence for m in batch])
                    return batch
                received, wall = receive_batched(blast, take, len)
            done = blast.result()
            stats = receiver.stats()
        tail = total if tracker.highest is None else total - 1 - tracker.highest
        loss = tracker.missing + tail
        if loss != total - received:
            ctx.log(f"  note: sequence numbers say {loss} lost, counts say {total - received} "
                    f"({tracker.late} late or duplicated)")
        sustained[variant] = {
            "sent": done["sent"], "send_errors": done["errors"], "sender_rate": done["sent"] / done["seconds"],
            "received": received, "lost_by_sequence": loss, "late": tracker.late,
            "kernel_drops": stats["kernel_drops"], "ring_overruns": stats["ring_overruns"],
            "receive_calls": stats["receive_calls"], "gro_runs": stats["gro_runs"], "wall_s": wall,
        }
        ctx.log(f"  sustained {SUSTAINED_RATE:,}/s for {seconds} s, {variant}: sender {sustained[variant]['sender_rate']:,.0f}/s, "
                f"received {received:,}, lost {loss} (kernel {stats['kernel_drops']}, ring {stats['ring_overruns']}), "
                f"{received / max(stats['receive_calls'], 1):.1f} datagrams per recvmmsg")
        results.append(entry(f"ingest_sustained_{SUSTAINED_RATE // 1000}k_loss_{variant}", loss, "messages",
                             bar="<= 0"))
        results.append(entry(f"ingest_sustained_{SUSTAINED_RATE // 1000}k_sender_rate_{variant}",
                             sustained[variant]["sender_rate"], "messages/s",
                             bar=f">= {SUSTAINED_RATE * 99 // 100}"))
    results.append(entry("ingest_receive_buffer_granted", granted, "bytes",
                         bar=f"asked {RECEIVE_BUFFER}; net.core.rmem_max {rmem_max}"))
    ctx.details[GROUP] = {
        "count_per_block": count, "socket_holds": held, "rates": rates, "cpu_rates": cpu_rates, "lost": lost,
        "sustained": sustained, "receive_buffer_asked": RECEIVE_BUFFER, "receive_buffer_granted": granted,
        "rmem_max": rmem_max,
    }
    return results
