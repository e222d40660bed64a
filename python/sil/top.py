"""sil-top: a live view of a running sim or rig, from its control plane's
GetStats (docs/sil-top.md): messages per second by type, drops by reason,
peer changes, ticks and overruns, refreshed every interval.

    sil-top udp://127.0.0.1:14550               refreshes until Ctrl-C
    sil-top udp://127.0.0.1:14550 --count 10    ten refreshes, then exits
    sil-top udp://127.0.0.1:14550 --once        one plain-text frame, for scripts

It asks only GetStats, a query: the sim answers it but never makes the
asker its active peer, so watching a sim that a test drives takes nothing
from the test (docs/security.md "Who receives telemetry: the peer policies").
Rates are differences between
two snapshots: per second of wall time (the load on the link and the host)
and, for publications, per second of simulated time (what the system does,
whatever the clock and speed)."""

from __future__ import annotations

import argparse
import itertools
import shutil
import sys
import time
from dataclasses import dataclass
from typing import Optional, Sequence, TextIO

from sil import control, transport
from sil.control import ControlError, pb
from sil.targets import parse_target
from sil.transport import Transport

PROG = "sil-top"
DEFAULT_INTERVAL = 1.0
DEFAULT_TIMEOUT = 5.0
# Redraw in place: cursor home, each line cleared to its end, the rest of
# the screen cleared after the last; no curses needed.
_HOME = "\x1b[H"
_CLEAR_LINE = "\x1b[K"
_CLEAR_BELOW = "\x1b[J"


class TopError(RuntimeError):
    """The sim cannot be watched: the message says why, for a person."""


@dataclass(frozen=True)
class Snapshot:
    """One GetStats reply and the wall time (time.monotonic()) it arrived."""

    wall: float
    sim_time_ns: int
    tick: int
    stats: pb.Stats


class StatsPoller:
    """Asks the sim at host:port for its stats over the one sil transport."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.where = f"udp://{host}:{port}"
        self.timeout = timeout
        self._answered = False
        # Any local address: the kernel picks the interface that reaches a
        # rig on another machine, and loopback for a sim on this one.
        self._transport = Transport(host, port, gone=self._gone, bind=("0.0.0.0", 0))

    def snapshot(self) -> Snapshot:
        try:
            reply = self._transport.call("get_stats", pb.GetStats(), self.timeout, self._pump)
        except ControlError as error:
            raise TopError(f"{self.where} refused GetStats: {error.code}: {error.detail}") from error
        if reply is None:
            raise TopError(self._silent())
        if reply.WhichOneof("result") != "stats":
            raise TopError(f"{self.where} answered GetStats with {reply.WhichOneof('result') or 'nothing'}, "
                           "not stats: is it a sil sim?")
        self._answered = True
        return Snapshot(time.monotonic(), reply.sim_time_ns, reply.tick, reply.stats)

    def close(self) -> None:
        self._transport.close()

    def _pump(self, wait: float, sequences: Sequence[int]) -> Optional[pb.Reply]:
        # Only replies matter here; anything else (telemetry, were this
        # socket ever the peer) is read and dropped.
        for datagram in self._transport.datagrams(wait):
            if transport.is_control_reply(datagram):
                reply = control.decode_reply(bytes(datagram))
                if reply is not None and reply.sequence in sequences:
                    return reply
        return None

    def _silent(self) -> str:
        if self._answered:
            return (f"the sim at {self.where} stopped answering: no reply to GetStats within {self.timeout:g} s "
                    "(hung, stopped, or overloaded)")
        return (f"no reply from {self.where} to GetStats within {self.timeout:g} s: something there takes "
                "datagrams but does not answer sil's control plane (not a sil sim or rig, or no control plane), "
                "or the sim is hung or stopped")

    def _gone(self) -> TopError:
        if self._answered:
            return TopError(f"the sim at {self.where} has stopped: nothing listens there any more")
        return TopError(f"nothing listens at {self.where}: is the sim running, and is that its port?")


# -- one frame ----------------------------------------------------------------

def _counts(entries) -> dict[int, tuple[str, int]]:
    return {entry.msg_id: (entry.name, entry.count) for entry in entries}


def _rate(now: int, before: Optional[int], seconds: float) -> str:
    if before is None or seconds <= 0:
        return "-"
    return f"{(now - before) / seconds:.1f}"


def _with_delta(now: int, before: Optional[int]) -> str:
    if before is None or now == before:
        return str(now)
    return f"{now} (+{now - before})"


def render(before: Optional[Snapshot], now: Snapshot, where: str) -> list[str]:
    """The frame's lines: rates over the time between before and now (none
    when before is None), totals since the sim started."""
    stats = now.stats
    wall = now.wall - before.wall if before is not None else 0.0
    sim = (now.sim_time_ns - before.sim_time_ns) / 1e9 if before is not None else 0.0
    old = before.stats if before is not None else None

    def was(field: str) -> Optional[int]:
        return None if old is None else getattr(old, field)

    state = "paused" if stats.paused else "running"
    speed = f", speed {stats.speed:g}" if stats.clock == "realtime" else ""
    lines = [f"{PROG} {where}   clock {stats.clock or '?'}{speed}, {state}"]
    time_line = f"time     sim {now.sim_time_ns / 1e9:.3f} s, tick {now.tick}"
    if before is not None:
        ratio = f" ({sim / wall:.2f}x)" if wall > 0 else ""
        time_line += f"   last {wall:.2f} s of wall time: +{sim:.3f} s simulated{ratio}"
    lines.append(time_line)
    lines.append(f"ticks    {stats.ticks}   {_rate(stats.ticks, was('ticks'), wall)}/s   "
                 f"overruns {_with_delta(stats.overruns, was('overruns'))}")
    lines.append(f"peer     changes {_with_delta(stats.peer_changes, was('peer_changes'))}   "
                 f"idle expiries {stats.peer_expiries}   kept out {stats.rx_not_peer}   "
                 f"sent with no peer {_with_delta(stats.tx_no_peer, was('tx_no_peer'))}")
    drops = "   ".join(f"{reason} {_with_delta(count, None if old is None else old.drops.get(reason, 0))}"
                       for reason, count in sorted(stats.drops.items()))
    lines.append(f"drops    {drops or 'none counted'}")
    lines.append(f"sending  errors {_with_delta(stats.tx_errors, was('tx_errors'))}   "
                 f"control requests {stats.control_requests} (errors {stats.control_errors})")
    lines.append("")

    published, received, sent = _counts(stats.published), _counts(stats.received), _counts(stats.sent)
    previous = [{}, {}, {}] if old is None else [_counts(old.published), _counts(old.received), _counts(old.sent)]
    rows = [("message", "id", "published", "/s", "/sim s", "received", "/s", "sent", "/s")]
    for msg_id in sorted(set(published) | set(received) | set(sent)):
        name = next(counts[msg_id][0] for counts in (published, received, sent) if msg_id in counts)
        totals = [counts.get(msg_id, ("", 0))[1] for counts in (published, received, sent)]
        if not any(totals):
            continue
        earlier = [counts[msg_id][1] if msg_id in counts else (None if old is None else 0) for counts in previous]
        rows.append((name, str(msg_id),
                     str(totals[0]), _rate(totals[0], earlier[0], wall), _rate(totals[0], earlier[0], sim),
                     str(totals[1]), _rate(totals[1], earlier[1], wall),
                     str(totals[2]), _rate(totals[2], earlier[2], wall)))
    if len(rows) == 1:
        lines.append("no messages yet")
        return lines
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
    return lines


# -- the command ----------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="A live view of a running sil sim or rig: messages per second by type, drops by "
                               "reason, peer changes, ticks and overruns, from its control plane (GetStats). "
                               "Never takes the telemetry from the harness driving the sim.")
    parser.add_argument("target", metavar="udp://HOST:PORT", help="the sim's address, as --sil-target takes it")
    parser.add_argument("-i", "--interval", type=_positive, default=DEFAULT_INTERVAL, metavar="SECONDS",
                        help=f"wall time between refreshes (default {DEFAULT_INTERVAL:g})")
    parser.add_argument("-n", "--count", type=_count, default=None, metavar="N",
                        help="stop after N refreshes (default: until Ctrl-C)")
    parser.add_argument("--once", action="store_true",
                        help="print one frame as plain text (rates over one interval) and exit")
    parser.add_argument("--timeout", type=_positive, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                        help=f"how long to wait for each reply before giving up (default {DEFAULT_TIMEOUT:g})")
    return parser


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def _count(text: str) -> int:
    if not text.isdigit() or int(text) == 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def run(args: argparse.Namespace, out: TextIO) -> None:
    host, port = args.address
    live = not args.once and out.isatty()
    count = 1 if args.once else args.count
    poller = StatsPoller(host, port, args.timeout)
    try:
        before = poller.snapshot()
        if live:
            out.write(f"{_HOME}{_CLEAR_BELOW}{PROG} {poller.where}: measuring for {args.interval:g} s ...\n")
            out.flush()
        for shown in itertools.count() if count is None else range(count):
            time.sleep(max(before.wall + args.interval - time.monotonic(), 0.0))
            now = poller.snapshot()
            lines = render(before, now, poller.where)
            if live:
                size = shutil.get_terminal_size()
                lines = [line[:size.columns] for line in lines[:max(size.lines - 1, 1)]]
                out.write(_HOME + "".join(line + _CLEAR_LINE + "\n" for line in lines) + _CLEAR_BELOW)
            else:
                out.write(("\n" if shown else "") + "\n".join(lines) + "\n")
            out.flush()
            before = now
    finally:
        poller.close()


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        kind, args.address = parse_target(args.target)
    except ValueError:
        kind = None
    if kind != "udp":
        parser.error(f"{args.target!r} is not a sim's address: give it as udp://HOST:PORT")
    try:
        run(args, sys.stdout)
    except KeyboardInterrupt:
        # Ctrl-C is how a live view is closed: the last frame stays on screen.
        sys.stdout.write("\n")
        return 0
    except BrokenPipeError:
        return 0
    except (TopError, OSError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
