"""NetworkTarget: a sim (or rig) already running at HOST:PORT, driven over
its control plane through sil.transport (udp://HOST:PORT)."""

from __future__ import annotations

import collections
import time
import warnings
from typing import Optional, Sequence

from sil import control, transport
from sil._system import system_module
from sil.catalogue import Catalogue, Decoder
from sil.client import SilTimeout
from sil.control import ControlError, pb
from sil.simtime import NS_PER_S, SimTime, format_ns
from sil.target_base import (
    DEFAULT_RATE_HZ,
    DEFAULT_WALL_TIMEOUT,
    DEFAULT_WITHIN,
    VERDICTS,
    SimAttachError,
    SimHungError,
    Stats,
    Target,
    _Condition,
    _Entry,
    _WallGuard,
    ns_at,
)
from sil.transport import RECEIVE_BUFFER_REQUEST, Hello, Transport
from sil.udp_owner import udp_owner

# How long a silent attach waits for the sim to answer Hello.
_HELLO_TIMEOUT = 2.0


class CatalogueMismatchWarning(UserWarning):
    """The sim was built from a different message catalogue than this
    harness: messages whose layouts differ are decoded from the sim's
    catalogue, and compiled classes for them are refused."""


class NetworkTarget(Target):
    """A sim at host:port over UDP: data datagrams and control requests on
    one socket. Attaching sends Hello (which also makes this socket the sim's
    active peer) and reads the sim's clock, rate, speed and catalogue hash;
    a different hash warns (CatalogueMismatchWarning) and fetches the sim's
    catalogue to decode its messages.

    A sim without a control plane (an older sil-sim, a rig that only speaks
    the data protocol) is attached with require_control=False: the target
    then becomes the peer with a RevisionRequest and waits in wall time at
    speed 1.

    bundle_bytes: asked for in Hello (docs/wire-format.md "Bundles"): the sim then packs
    what it sends this socket several datagrams to one, so a tick costs one
    trip through the kernel, not one per message. None: 65507 bytes for a
    loopback host, 1472 (one Ethernet frame) for any other; 0: no bundles.
    A sim that cannot make them (--egress per-message, an older build)
    grants none and sends one message per datagram; self.ready.bundle_bytes
    says what it granted, self.bundles counts the bundles received."""

    kind = "udp"

    def __init__(self, host: str, port: int, *, wall_timeout: float = DEFAULT_WALL_TIMEOUT,
                 default_within=DEFAULT_WITHIN, require_control: bool = False,
                 hello_timeout: Optional[float] = None, bind: tuple[str, int] = ("127.0.0.1", 0),
                 receive_buffer: int = RECEIVE_BUFFER_REQUEST, bundle_bytes: Optional[int] = None) -> None:
        super().__init__(Decoder(), wall_timeout=wall_timeout, default_within=default_within)
        self.address = (host, port)
        self._hello = Hello(host, port, bundle_bytes)
        # A smaller buffer than asked for only means advances are cut into smaller chunks.
        self._link = Transport(host, port, bind=bind, receive_buffer=receive_buffer, gone=self._gone)
        self._system = system_module()
        # How many ticks one Advance may ask for: learnt as advances run (the policy sil.StepLink uses too).
        self._budget = self._system.RxBudget(self._link.receive_buffer)
        self._rx_cost = self._system.RxBudget.cost  # socket buffer bytes a datagram of this length may take
        self._segment_cost = 0  # buffer bytes of what _segment arrived in
        self._last_segment_cost = 0
        self._segment: list[_Entry] = []  # data received since the last reply
        self._last_segment: list[_Entry] = []  # the data the last reply closed
        self._last_reply_ns: Optional[int] = None
        self._dirty = False
        self.undecodable: list[tuple[bytes, str]] = []
        self.ready: Optional[pb.Ready] = None
        self.control = False
        self.clock = "realtime"
        self.speed = 1.0
        self.rate_hz = DEFAULT_RATE_HZ
        self._now = 0
        self._tick = 0
        try:
            self._attach(require_control, hello_timeout)
        except BaseException:
            self._link.close()
            raise

    # -- attaching -------------------------------------------------------

    def _attach(self, require_control: bool, hello_timeout: Optional[float]) -> None:
        timeout = self.wall_timeout if require_control else min(hello_timeout or _HELLO_TIMEOUT, self.wall_timeout)
        guard = _WallGuard(timeout, "attaching (Hello)")
        reply = self._control("hello", self._hello.request, guard, silence_ok=not require_control)
        if reply is None:
            self._attach_without_control(timeout)
            return
        self.control = True
        self.ready = reply.ready
        self.clock = reply.ready.clock or "realtime"
        self.speed = reply.ready.speed or 1.0
        self.rate_hz = reply.ready.rate_hz or DEFAULT_RATE_HZ
        self.stepped = self.clock == "step"
        if not self._hello.catalogue_matches(reply.ready.catalogue_hash):
            catalogue = self._control("get_catalogue", pb.GetCatalogue(),
                                      _WallGuard(self.wall_timeout, "GetCatalogue")).catalogue
            self.types = Decoder(Catalogue.from_proto(catalogue))
            self._warn_mismatch(reply.ready.catalogue_hash)

    def _attach_without_control(self, hello_timeout: float) -> None:
        """Attaches over the data protocol: a RevisionResponse gives the rate.
        A sim that sends datagrams back but no RevisionResponse within
        hello_timeout of the first is alive without a RevisionService
        (SimAttachError); one that sends nothing at all within the wall
        guard is hung, stopped, or not a sim (SimHungError)."""
        self.stepped = False
        request_id = 0x51C0FFEE
        system = self._system
        self._link.send(system.encode(system.RevisionRequest(request_id=request_id)))
        guard = _WallGuard(self.wall_timeout, "attaching (RevisionRequest)")
        alive: Optional[_WallGuard] = None  # from the first datagram back: the sim runs and we are its peer
        for _ in range(1_000_000):
            for entry in self._log:
                if entry.msg_id == int(system.MsgId.RevisionResponse) and \
                        len(entry.payload) == system.RevisionResponse.SIZE:
                    response = system.RevisionResponse.from_bytes(entry.payload)
                    if response.request_id == request_id:
                        self.rate_hz = response.tick_rate_hz or DEFAULT_RATE_HZ
                        if not self._hello.catalogue_matches(response.catalogue_hash):
                            self._warn_mismatch(response.catalogue_hash, fetched=False)
                        warnings.warn(f"{self._hello.where} has no control plane (no answer to Hello): waiting in "
                                      "wall time at speed 1", RuntimeWarning, stacklevel=4)
                        return
            if alive is None and (self._log or self.undecodable):
                alive = _WallGuard(hello_timeout, "attaching (RevisionRequest)")
            if alive is not None and (alive.expired() or guard.expired()):
                raise SimAttachError(self._without_revision_service())
            if guard.expired():
                raise self._hung(guard, "no answer to Hello (a control plane) or to a RevisionRequest (a "
                                        "RevisionService), and no datagram at all")
            self._pump(min(guard.remaining(), 0.25))
        raise self._hung(guard, "no answer to a RevisionRequest")

    def _without_revision_service(self) -> str:
        counts = collections.Counter(self.types.remote[entry.msg_id].name for entry in self._log)
        sent = ", ".join(f"{n} x {name}" for name, n in sorted(counts.items()))
        if self.undecodable:
            sent += (", " if sent else "") + f"{len(self.undecodable)} undecodable"
        return (f"{self._hello.where} is running (it sent {sent}) but cannot be attached: it has no control plane "
                "(no reply to Hello) and no RevisionService (no RevisionResponse to a RevisionRequest), so its "
                "tick rate cannot be learnt. Give it one of them: the control plane comes with sil-sim and with "
                "a rig's RigHost (docs/hil.md), the RevisionService with every system that keeps "
                "framework_services = true (docs/services.md \"Declaring a system\").")

    def _counts_publications(self) -> bool:
        return self.control

    def _process_note(self) -> str:
        owner = udp_owner(*self.address)
        if owner is None:
            return ""
        host, port = self.address
        if owner.stopped:
            return (f"the process that owns {host}:{port}, {owner.describe()}: it answers nothing until it is "
                    f"resumed (kill -CONT {owner.pid}).")
        return (f"the process that owns {host}:{port}, {owner.describe()} but did not answer: it is not a sil "
                "sim, or its loop is stuck.")

    def _warn_mismatch(self, theirs: int, *, fetched: bool = True) -> None:
        ours = self._hello.catalogue_hash
        text = (f"{self._hello.mismatch()}: its hash is {theirs:#010x} ({theirs}), this harness's is "
                f"{ours:#010x} ({ours}). ")
        if fetched:
            differing = ", ".join(self.types.mismatched) or "none of this build's"
            text += (f"Messages laid out differently or missing there: {differing}; they are decoded from the "
                     "sim's catalogue (target.types.<Name>).")
        else:
            text += ("Without a control plane its catalogue cannot be fetched: messages are decoded with this "
                     "build's layouts, which may not be the sim's.")
        warnings.warn(CatalogueMismatchWarning(text), stacklevel=4)

    @property
    def build(self) -> Optional[dict]:
        """version and git_revision of the build the sim runs (from Ready), or
        None for a sim without a control plane."""
        if self.ready is None:
            return None
        return {"version": self.ready.version, "git_revision": self.ready.git_revision}

    # -- time ------------------------------------------------------------

    @property
    def now_ns(self) -> int:
        """Simulated time of the next tick. On a step clock it is known
        locally; otherwise it is asked for (GetStats)."""
        self._check_open()
        if not self.stepped and self.control:
            self._control("get_stats", pb.GetStats(), _WallGuard(self.wall_timeout, "now_ns"))
        return self._now

    @property
    def _known_now_ns(self) -> int:
        return self._now  # on a free-running clock, as of the last reply

    # -- sending ---------------------------------------------------------

    def _send(self, msg_id: int, payload: bytes, message) -> None:
        self._link.send(msg_id.to_bytes(2, "little") + payload)
        self._dirty = True

    def _send_raw(self, data: bytes) -> None:
        self._link.send(data)
        self._dirty = True

    # -- receiving -------------------------------------------------------

    @property
    def bundles(self) -> int:
        """Bundles received."""
        return self._link.bundles

    def _pump(self, timeout: float, want: Sequence[int] = ()) -> Optional[pb.Reply]:
        """Waits up to timeout for a datagram, then reads what is there: data
        into the log, replies stamp the data before them. Returns the reply
        with a sequence in `want` as soon as it is read (what follows it stays in
        the socket; what follows it in the same bundle is taken first)."""
        for datagram in self._link.datagrams(timeout):
            self._segment_cost += self._rx_cost(len(datagram))
            try:
                items = self._link.opened(datagram)
            except self._system.DecodeError as error:
                self.undecodable.append((bytes(datagram), f"bundle {error.verdict}"))
                continue
            wanted = None
            for item in items:
                reply = self._take_datagram(item)
                if reply is not None and reply.sequence in want:
                    wanted = reply
            if wanted is not None:
                return wanted
        return None

    def _take_datagram(self, datagram) -> Optional[pb.Reply]:
        """One datagram as the sim would send it alone: data goes into the
        log; a control reply is returned."""
        if transport.is_control_reply(datagram):
            reply = control.decode_reply(bytes(datagram))
            if reply is None:
                self.undecodable.append((bytes(datagram), "malformed control reply"))
                return None
            self._on_reply(reply)
            return reply
        try:
            msg_id = transport.message_id(datagram, self.types)
        except self._system.DecodeError as error:
            self.undecodable.append((bytes(datagram), error.verdict))
            return None
        entry = _Entry(len(self._log), msg_id, bytes(datagram[2:]), self._last_reply_ns, None)
        self._log.append(entry)
        self._segment.append(entry)
        return None

    def _on_reply(self, reply: pb.Reply) -> None:
        # Generic stamping: published after the previous reply was sent and
        # before this one (on an in-order path such as loopback).
        for entry in self._segment:
            entry.latest_ns = reply.sim_time_ns
        self._last_segment = self._segment
        self._segment = []
        self._last_segment_cost = self._segment_cost
        self._segment_cost = 0
        self._last_reply_ns = reply.sim_time_ns
        self._now = reply.sim_time_ns
        self._tick = reply.tick

    def _control(self, command: str, body, guard: _WallGuard, *, silence_ok: bool = False) -> Optional[pb.Reply]:
        # The guard runs per request: a long advance made of many promptly
        # answered chunks is not a hung sim.
        reply = self._link.call(command, body, guard.seconds, self._pump, lambda: self._check_alive(guard))
        if reply is None and not silence_ok:
            raise self._hung(guard, f"no reply to {transport.describe(command, body)}{self._drops_note()}")
        return reply

    def control_request(self, **command) -> pb.Reply:
        """Sends one control request and returns the sim's reply, e.g.
        control_request(pause=sil.control.pb.Pause()). An error reply raises
        ControlError; no reply within wall_timeout raises SimHungError."""
        self._check_open()
        if len(command) != 1:
            raise TypeError("control_request() takes exactly one command, e.g. get_stats=pb.GetStats()")
        (name, body), = command.items()
        reply = self._control(name, body, _WallGuard(self.wall_timeout, name))
        self._dirty = False
        return reply

    # -- parameters ------------------------------------------------------

    def _state_request(self, command: str, body):
        self._check_control(command)
        reply = self._control(command, body, _WallGuard(self.wall_timeout, command))
        self._dirty = False
        return reply

    def _check_control(self, what: str) -> None:
        if not self.control:
            raise RuntimeError(f"{what} needs the sim's control plane; {self._hello.where} has none")

    def _check_alive(self, guard: _WallGuard) -> None:
        """Raises SimHungError at once when the sim is known to be gone."""

    def _gone(self) -> SimHungError:
        host, port = self.address
        return SimHungError(f"nothing listens at {host}:{port} (has the sim exited, or is that not its port?)")

    def _drops_note(self) -> str:
        drops = self._link.kernel_drops()
        if drops:
            return (f" (this harness's socket dropped {drops} datagrams: its receive buffer overflowed, "
                    "so the reply may have been lost)")
        return ""

    # -- step clock ------------------------------------------------------

    def _sync(self, guard: _WallGuard) -> None:
        if not self.stepped:
            self._pump(0.0)
            return
        if self._dirty:
            # Requests are handled in arrival order with data, so once this
            # reply is here, everything the injections caused is too.
            self._control("get_stats", pb.GetStats(), guard)
            self._dirty = False

    def _chunk_ticks(self) -> int:
        # Ticks whose datagrams fit the socket buffer even if the sim sends
        # them faster than this process reads.
        return self._budget.chunk_ticks()

    def _run(self, ticks: int, condition: Optional[_Condition], guard: _WallGuard) -> bool:
        remaining = ticks
        for _ in range(ticks + 1):
            if remaining <= 0:
                return False
            chunk = min(remaining, self._chunk_ticks())
            tick_before = self._tick
            if condition is None:
                advance = pb.Advance(ticks=chunk)
            else:
                until = pb.Until(msg_id=condition.msg_id, limit_ns=chunk * NS_PER_S // self.rate_hz)
                if condition.pushed is not None:
                    until.field = condition.pushed[0]
                    until.equals.CopyFrom(_field_value(condition.pushed[1]))
                advance = pb.Advance(until=until)
            reply = self._control("advance", advance, guard)
            result = reply.advanced
            if reply.WhichOneof("result") != "advanced" or result.ticks_run > chunk or \
                    (result.ticks_run == 0 and not result.matched):
                raise ControlError("Advance", "PROTOCOL",
                                   f"asked for {chunk} ticks, the reply says {result.ticks_run} ran: {reply}")
            self._stamp_advance(tick_before, reply, condition)
            cost = self._last_segment_cost
            self._budget.learn(cost, result.ticks_run)
            remaining -= result.ticks_run
            self._dirty = False
            if result.matched:
                return True
        return False

    def _stamp_advance(self, tick_before: int, reply: pb.Reply, condition: Optional[_Condition]) -> None:
        result = reply.advanced
        first = ns_at(self.rate_hz, tick_before)
        last = ns_at(self.rate_hz, tick_before + result.ticks_run - 1) if result.ticks_run else first
        segment = self._last_segment
        for entry in segment:
            entry.earliest_ns, entry.latest_ns = first, last
        if result.matched and condition is not None:
            # The first message of the segment that meets the Until is the
            # one the sim matched; it and everything after it were published
            # in the tick the advance stopped at.
            for position, entry in enumerate(segment):
                if entry.msg_id == condition.msg_id and condition.matches_pushed(self._message(entry)):
                    for later in segment[position:]:
                        later.earliest_ns = later.latest_ns = result.matched_at_ns
                    for earlier in segment[:position]:
                        earlier.latest_ns = result.matched_at_ns
                    break

    def _stats(self, guard: _WallGuard) -> Stats:
        reply = self._control("get_stats", pb.GetStats(), guard)
        self._dirty = False
        stats = reply.stats
        drops = {verdict: stats.drops.get(verdict, 0) for verdict in VERDICTS}
        details = {
            "other_drops": {name: n for name, n in stats.drops.items() if name not in VERDICTS},
            "sent": {c.name: c.count for c in stats.sent if c.count},
            "overruns": stats.overruns, "tx_errors": stats.tx_errors, "tx_no_peer": stats.tx_no_peer,
            "peer_changes": stats.peer_changes, "control_requests": stats.control_requests,
            "control_errors": stats.control_errors, "clock": stats.clock, "speed": stats.speed,
            "paused": stats.paused, "harness_rx_drops": self._link.kernel_drops(),
            "harness_undecodable": len(self.undecodable),
        }
        return Stats(ticks=stats.ticks, sim_time_ns=reply.sim_time_ns,
                     published={c.name: c.count for c in stats.published if c.count},
                     received={c.name: c.count for c in stats.received if c.count}, drops=drops,
                     trace_digest=stats.trace_digest, trace_count=stats.trace_count, details=details,
                     counters=dict(stats.counters))

    # -- free-running clocks (realtime, fast) ----------------------------

    def _wait_wall(self, seconds: float, condition: Optional[_Condition], scan_from: int) -> Optional[_Entry]:
        """Receives for `seconds` of wall time; returns the first new match."""
        deadline = time.monotonic() + seconds
        for _ in range(1_000_000):
            remaining = deadline - time.monotonic()
            self._pump(max(remaining, 0.0))
            if condition is not None:
                entry = self._find(scan_from, condition)
                if entry is not None:
                    return entry
                scan_from = len(self._log)
            if remaining <= 0:
                return None
        return None

    def _free_slice(self, remaining_ns: int) -> float:
        # Wall seconds to wait before looking at the sim's clock again.
        if self.clock == "fast":
            return 0.005
        return min(max(remaining_ns / NS_PER_S / self.speed, 0.0), 0.25)

    def _expect_free(self, condition: _Condition, budget: SimTime, guard: _WallGuard):
        entry = self._find(self._cursor, condition)
        if entry is not None:
            return self._take(entry, move_cursor=False)
        first_new = len(self._log)
        scan_from = first_new
        start_ns = self.now_ns if self.control else None
        if start_ns is None:
            found = self._wait_wall(budget.ns / NS_PER_S / self.speed, condition, scan_from)
            if found is not None:
                return self._take(found, move_cursor=True)
        else:
            deadline_ns = start_ns + budget.ns
            stuck_since, last_ns = time.monotonic(), start_ns
            for _ in range(10_000_000):
                now = self._now
                if now >= deadline_ns:
                    break
                found = self._wait_wall(self._free_slice(deadline_ns - now), condition, scan_from)
                if found is not None:
                    return self._take(found, move_cursor=True)
                scan_from = len(self._log)
                self._control("get_stats", pb.GetStats(), guard)
                stuck_since, last_ns = self._check_moving(stuck_since, last_ns, guard)
            found = self._find(scan_from, condition)
            if found is not None:
                return self._take(found, move_cursor=True)
        self._cursor = len(self._log)
        raise SilTimeout(self._timeout_text(condition, budget, start_ns, first_new))

    def _advance_free(self, ticks: int, guard: _WallGuard) -> None:
        duration_ns = ticks * NS_PER_S // self.rate_hz
        if not self.control:
            self._wait_wall(duration_ns / NS_PER_S / self.speed, None, len(self._log))
        else:
            target_ns = self.now_ns + duration_ns
            stuck_since, last_ns = time.monotonic(), self._now
            for _ in range(10_000_000):
                if self._now >= target_ns:
                    break
                self._wait_wall(self._free_slice(target_ns - self._now), None, len(self._log))
                self._control("get_stats", pb.GetStats(), guard)
                stuck_since, last_ns = self._check_moving(stuck_since, last_ns, guard)
        self._cursor = len(self._log)

    def _check_moving(self, stuck_since: float, last_ns: int, guard: _WallGuard) -> tuple[float, int]:
        if self._now != last_ns:
            return time.monotonic(), self._now
        if time.monotonic() - stuck_since > self.wall_timeout:
            raise self._hung(guard, f"simulated time stayed at {format_ns(self._now)}"
                                    f"{' (the sim is paused)' if self._paused() else ''}")
        return stuck_since, last_ns

    def _paused(self) -> bool:
        return bool(self.ready is not None and self.ready.paused)

    # -- lifetime --------------------------------------------------------

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._link.close()

    def __repr__(self) -> str:
        host, port = self.address
        return f"<{type(self).__name__} {host}:{port} clock={self.clock} {self.rate_hz} Hz>"


def _field_value(value) -> pb.FieldValue:
    if isinstance(value, str):
        return pb.FieldValue(text_value=value)
    if isinstance(value, float):
        return pb.FieldValue(float_value=value)
    return pb.FieldValue(int_value=value)

