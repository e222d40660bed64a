"""Targets: what a scenario drives. One verb set, with the same meaning on
every target:

  inject(msg)                       publish msg on the sim's bus now, at the
                                    current tick boundary
  inject_raw(data)                  hand data to the sim as a datagram from
                                    the network, valid or not
  request(req, ResponseType, within=)
                                    inject req, expect the ResponseType with
                                    its request_id
  expect(Type, where=None, within=) the next Type message (matching where),
                                    running simulated time until one is
                                    published, for at most `within`
  advance(duration | ms= | ticks=)  let simulated time pass
  history(Type=None)                everything the services published
  records()                         the same as (sim time, MsgId, payload)
  time_of(msg)                      when msg was published (simulated ns)
  stats()                           the sim's counters and trace digest
  now_ns                            simulated time of the next tick

Time budgets are simulated time: ``sil.ms(250)``, ``sil.s(2)`` (or a
``datetime.timedelta``). Running out of one fails the test with
``SilTimeout`` (an AssertionError) that says what was awaited and what was
published instead. Separately, a wall-clock guard (``wall_timeout``, 30 s by
default) catches a sim that stopped answering: ``SimHungError``, which is
about the sim, never about the condition.

The targets:
  InprocTarget           the services and bus in this process (sil._core.InprocSim)
  ProcessTarget          a sil-sim launched for the target, by default with
                         --clock step: time moves only when the target says so
  NetworkTarget          a sim (or rig) already running at HOST:PORT; on a step
                         clock it is driven like ProcessTarget, on a realtime
                         or fast clock the verbs wait in wall time

Which messages expect() considers: those published after the point the test
has reached, in bus order. That point is the end of the last advance(), or
the message the last expect() had to wait for; messages published at the
current tick boundary (e.g. the response to what you just injected) count,
and expect() never returns a message twice. history() has everything.
"""

from __future__ import annotations

import collections
import ipaddress
import itertools
import math
import os
import socket
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field as dataclass_field
from typing import Any, Callable, NamedTuple, Optional, Sequence, Union

from sil import _core, control, simtime
from sil._udp import connected_socket
from sil.catalogue import INT_RANGES, Catalogue, CatalogueMessage, Decoder, MessageInfo
from sil.client import SilTimeout, _describe_predicate
from sil.control import ControlError
from sil.control import pb
from sil.launcher import SimProcess
from sil.simtime import NS_PER_S, SimTime, format_ns, to_sim_time

DEFAULT_WALL_TIMEOUT = 30.0
DEFAULT_WITHIN = SimTime(NS_PER_S)
DEFAULT_RATE_HZ = 100
VERDICTS = ("too_short", "unknown_id", "wrong_size", "truncated")
_LAST_SHOWN = 5
# In-process: ticks per call into C++, so a long advance still lets Python
# handle a signal (Ctrl-C) between calls.
_INPROC_SLICE = 1 << 16
# How long a silent attach waits for the sim to answer Hello.
_HELLO_TIMEOUT = 2.0
_RECV_BATCH = 1024
_RX_BUFFER_REQUEST = 8 << 20
# Bundles asked for in Hello (docs/wire-format.md "Bundles"): as large as UDP allows on
# loopback, one Ethernet frame's payload elsewhere (no IP fragments).
_LOOPBACK_BUNDLE_BYTES = _core.MAX_BUNDLE_BYTES
_NETWORK_BUNDLE_BYTES = 1472
# A request that changes nothing is sent again when its reply is this late
# (then twice as late, ...).
_RESEND_AFTER = 0.2


class SimHungError(RuntimeError):
    """The sim did not answer within the wall-clock guard, or is gone. This is
    about the simulator (hung, crashed, or overloaded), not about the
    condition the test was waiting for."""


class CatalogueMismatchWarning(UserWarning):
    """The sim was built from a different message catalogue than this
    harness: messages whose layouts differ are decoded from the sim's
    catalogue, and compiled classes for them are refused."""


@dataclass
class Stats:
    """The sim's counters. ``published`` counts every publication on the bus
    (services and injections) by message name, zero counts left out;
    ``received`` counts what the sim accepted from harnesses by name;
    ``drops`` counts inbound datagrams dropped by verdict (all four present);
    ``trace_digest``/``trace_count`` fold every publication (sim time, MsgId,
    payload) in order, so two runs with equal digests published the same."""

    ticks: int
    sim_time_ns: int
    published: dict[str, int]
    received: dict[str, int]  # accepted from the harness (inject, valid inject_raw), zero counts left out
    drops: dict[str, int]
    trace_digest: int
    trace_count: int
    details: dict[str, Any] = dataclass_field(default_factory=dict)


class Received(NamedTuple):
    """One publication as the harness saw it. ``sim_time_ns`` is exact, or
    None when the target only knows it lies in [earliest_ns, latest_ns]."""

    sim_time_ns: Optional[int]
    earliest_ns: Optional[int]
    latest_ns: Optional[int]
    msg_id: int
    payload: bytes


def ticks_for(rate_hz: int, duration_ns: int) -> int:
    """Whole ticks needed to cover duration_ns at rate_hz, rounded up
    (sil::core::ticks_for)."""
    whole = duration_ns // NS_PER_S * rate_hz
    rest = duration_ns % NS_PER_S * rate_hz
    return whole + (rest + NS_PER_S - 1) // NS_PER_S


def ns_at(rate_hz: int, tick: int) -> int:
    """Simulated time of a tick (SimClock::ns_at)."""
    return tick // rate_hz * NS_PER_S + tick % rate_hz * NS_PER_S // rate_hz


class _Entry:
    __slots__ = ("index", "msg_id", "payload", "earliest_ns", "latest_ns", "injected", "consumed", "message")

    def __init__(self, index: int, msg_id: int, payload: bytes, earliest_ns: Optional[int],
                 latest_ns: Optional[int], injected: bool = False) -> None:
        self.index = index
        self.msg_id = msg_id
        self.payload = payload
        self.earliest_ns = earliest_ns
        self.latest_ns = latest_ns
        self.injected = injected
        self.consumed = False
        self.message = None

    @property
    def sim_time_ns(self) -> Optional[int]:
        if self.earliest_ns is not None and self.earliest_ns == self.latest_ns:
            return self.earliest_ns
        return None


class _WallGuard:
    def __init__(self, seconds: float, what: str) -> None:
        self.seconds = seconds
        self.what = what
        self.deadline = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def expired(self) -> bool:
        return self.remaining() <= 0


class _Condition:
    """What expect() waits for: a MsgId, field equalities (the first one the
    sim can evaluate is pushed into it as Until.field/equals) and an optional
    predicate evaluated here."""

    def __init__(self, decoder: Decoder, msg_type, where) -> None:
        self.msg_id, self.info = decoder.resolve(msg_type)
        self.checks: list[tuple[str, object]] = []
        self.predicate: Optional[Callable] = None
        self.pushed: Optional[tuple[str, object]] = None
        if where is None:
            pass
        elif isinstance(where, Mapping):
            for name, value in where.items():
                self.checks.append((name, _where_value(self.info, name, value)))
            self.pushed = next((check for check in self.checks if _pushable(self.info, *check)), None)
        elif callable(where):
            self.predicate = where
        else:
            raise TypeError(f"where must be a dict of {{field: value}} or a callable, got {type(where).__name__}")

    def matches(self, message) -> bool:
        for name, value in self.checks:
            if getattr(message, name) != value:
                return False
        return self.predicate is None or bool(self.predicate(message))

    def matches_pushed(self, message) -> bool:
        return self.pushed is None or getattr(message, self.pushed[0]) == self.pushed[1]

    def describe(self) -> str:
        text = self.info.name
        parts = [f"{name} == {value!r}" for name, value in self.checks]
        if self.predicate is not None:
            parts.append(_describe_predicate(self.predicate))
        return text + (" with " + " and ".join(parts) if parts else "")


def _where_value(info: MessageInfo, name: str, value):
    if not isinstance(name, str):
        raise TypeError(f"where: field names are str, got {name!r}")
    field = info.field(name)
    if field is None:
        raise ValueError(f"where: {info.name} has no field {name!r} (fields: {info.field_names()})")
    ref = f"where: {info.name}.{name} ({field.kind})"
    if isinstance(value, bool):
        raise TypeError(f"{ref} is compared with {'a str' if field.is_text else 'a number'}, got bool (use 1 or 0)")
    if field.is_text:
        if not isinstance(value, str):
            raise TypeError(f"{ref} is compared with a str, got {type(value).__name__}")
        try:
            encoded = value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise ValueError(f"{ref}: {value!r} is not valid UTF-8 text") from error
        if len(encoded) > field.size or "\0" in value:
            raise ValueError(f"{ref} holds at most {field.size} bytes without NUL: {value!r} can never match")
        return value
    if field.is_float:
        if not isinstance(value, (int, float)):
            raise TypeError(f"{ref} is compared with a number, got {type(value).__name__}")
        return float(value)
    if not isinstance(value, int):
        raise TypeError(f"{ref} is compared with an int, got {type(value).__name__}")
    low, high = INT_RANGES[field.kind]
    if not low <= value <= high:
        raise ValueError(f"{ref}: {value} is out of range ({low}..{high}) and can never match")
    return value


def _pushable(info: MessageInfo, name: str, value) -> bool:
    # The control protocol carries integers as int64.
    return not (isinstance(value, int) and not -(2 ** 63) <= value < 2 ** 63)


def _field_value(value) -> pb.FieldValue:
    if isinstance(value, str):
        return pb.FieldValue(text_value=value)
    if isinstance(value, float):
        return pb.FieldValue(float_value=value)
    return pb.FieldValue(int_value=value)


class Target:
    """The verbs; subclasses supply the sim."""

    kind = "?"

    # The duration helpers, here too: inside a test whose fixture is named
    # `sil`, sil.s(2) then still means two seconds of simulated time.
    ns = staticmethod(simtime.ns)
    us = staticmethod(simtime.us)
    ms = staticmethod(simtime.ms)
    s = staticmethod(simtime.s)

    def __init__(self, decoder: Decoder, *, wall_timeout: float, default_within: SimTime) -> None:
        if not (isinstance(wall_timeout, (int, float)) and wall_timeout > 0):
            raise ValueError(f"wall_timeout must be a positive number of seconds, got {wall_timeout!r}")
        self.types = decoder
        self.wall_timeout = float(wall_timeout)
        self.default_within = to_sim_time(default_within, "default_within")
        self._log: list[_Entry] = []
        self._cursor = 0
        self._by_identity: dict[int, _Entry] = {}
        self._closed = False

    # -- what the subclass provides --------------------------------------

    rate_hz: int
    stepped = True  # time moves only when a verb moves it

    @property
    def now_ns(self) -> int:
        raise NotImplementedError

    def _send(self, msg_id: int, payload: bytes, message) -> None:
        raise NotImplementedError

    def _send_raw(self, data: bytes) -> None:
        raise NotImplementedError

    def _sync(self, guard: _WallGuard) -> None:
        """Brings the log up to date with everything published so far."""
        raise NotImplementedError

    def _run(self, ticks: int, condition: Optional[_Condition], guard: _WallGuard) -> bool:
        """Runs up to ticks ticks, stopping at the end of the first tick that
        publishes a condition.msg_id message (with its pushed field). Returns
        whether it stopped for that."""
        raise NotImplementedError

    def _stats(self, guard: _WallGuard) -> Stats:
        raise NotImplementedError

    def _log_end(self) -> int:
        return len(self._log)

    # -- verbs -----------------------------------------------------------

    @property
    def period_ns(self) -> int:
        return NS_PER_S // self.rate_hz

    def inject(self, msg) -> None:
        """Publishes msg on the sim's bus at the current tick boundary (before
        the next tick runs). Not echoed into history()."""
        self._check_open()
        msg_id, payload = self.types.payload_of(msg)
        self._send(msg_id, payload, msg)

    def inject_raw(self, data) -> None:
        """Hands data to the sim exactly as a datagram from the network: it is
        published if valid, else dropped and counted in stats().drops."""
        self._check_open()
        data = bytes(memoryview(data))
        if len(data) >= 2 and int.from_bytes(data[:2], "little") == control.CONTROL_REQUEST_ID:
            raise ValueError("inject_raw(): MsgId 0xFFF0 is a control-plane request, not a bus message; "
                             "use the target's verbs")
        self._send_raw(data)

    def request(self, req, response_type, within=None):
        """Injects req and returns the response_type message with the same
        request_id, published within `within` of simulated time."""
        __tracebackhide__ = True
        for what, cls in (("request", type(req)), ("response type", response_type)):
            if "request_id" not in (name for name, *_ in cls.fields()):
                raise TypeError(f"request(): the {what} {cls.__name__} has no request_id field; "
                                "use inject() and expect()")
        request_id = req.request_id
        self.inject(req)
        return self.expect(response_type, where={"request_id": request_id}, within=within)

    def expect(self, msg_type, where=None, within=None):
        """The first unconsumed msg_type message published from the point the
        test has reached on (see the module doc) for which `where` holds:
        a dict {field: value} (exact equality; one field is evaluated inside
        the sim, the rest here) or a callable(msg) -> bool, evaluated here
        after each tick that published a msg_type. If none is there yet,
        simulated time runs until one is published, for at most `within`
        (default: the target's default_within); the sim then stops at the
        end of that tick. Raises SilTimeout when `within` passes first."""
        __tracebackhide__ = True
        self._check_open()
        condition = _Condition(self.types, msg_type, where)
        budget = self.default_within if within is None else to_sim_time(within, "within")
        guard = _WallGuard(self.wall_timeout, f"expect({condition.describe()})")
        if not self.stepped:
            return self._expect_free(condition, budget, guard)
        self._sync(guard)
        entry = self._find(self._cursor, condition)
        if entry is not None:
            return self._take(entry, move_cursor=False)
        start_ns = self.now_ns
        deadline_ns = start_ns + budget.ns
        scan_from = self._log_end()
        first_new = scan_from
        for _ in range(ticks_for(self.rate_hz, budget.ns) + 1):
            remaining = deadline_ns - self.now_ns
            if remaining <= 0:
                break
            matched = self._run(ticks_for(self.rate_hz, remaining), condition, guard)
            entry = self._find(scan_from, condition)
            if entry is not None:
                return self._take(entry, move_cursor=True)
            scan_from = self._log_end()
            if not matched:
                break
        self._cursor = self._log_end()
        raise SilTimeout(self._timeout_text(condition, budget, start_ns, first_new))

    def advance(self, duration=None, *, ms=None, ticks=None) -> None:
        """Lets simulated time pass: a SimTime/timedelta, ms= milliseconds or
        ticks= ticks (exactly one). Durations are rounded up to whole ticks.
        Everything published meanwhile is in history(); later expect()s
        start after it."""
        self._check_open()
        given = [value is not None for value in (duration, ms, ticks)]
        if sum(given) != 1:
            raise TypeError("advance() takes exactly one of a duration, ms= or ticks=")
        if ticks is not None:
            if isinstance(ticks, bool) or not isinstance(ticks, int) or ticks < 0:
                raise ValueError(f"advance(): ticks must be a non-negative int, got {ticks!r}")
            count = ticks
        else:
            if ms is not None:
                if isinstance(ms, bool) or not isinstance(ms, (int, float)) or not ms >= 0 or math.isinf(ms):
                    raise ValueError(f"advance(): ms must be a non-negative number, got {ms!r}")
                duration = simtime.ms(ms)
            count = ticks_for(self.rate_hz, to_sim_time(duration, "advance()").ns)
        if count == 0:
            return
        guard = _WallGuard(self.wall_timeout, f"advance({count} ticks)")
        if not self.stepped:
            self._advance_free(count, guard)
            return
        self._run(count, None, guard)
        self._cursor = self._log_end()

    def history(self, msg_type=None) -> list:
        """Every message the sim published (not the ones this target
        injected), consumed or not, in bus order; of msg_type if given."""
        self._check_open()
        self._sync(_WallGuard(self.wall_timeout, "history()"))
        msg_id = None if msg_type is None else self.types.resolve(msg_type)[0]
        return [self._message(entry) for entry in self._log
                if not entry.injected and (msg_id is None or entry.msg_id == msg_id)]

    def records(self) -> list[Received]:
        """history() as (sim_time_ns, earliest_ns, latest_ns, msg_id, payload)."""
        self._check_open()
        self._sync(_WallGuard(self.wall_timeout, "records()"))
        return [Received(entry.sim_time_ns, entry.earliest_ns, entry.latest_ns, entry.msg_id, entry.payload)
                for entry in self._log if not entry.injected]

    def time_of(self, msg) -> int:
        """The simulated time (ns) of the tick in which msg, a message from
        expect()/request()/history(), was published. Raises LookupError when
        the target only knows bounds (a long advance() over a socket, or a
        realtime sim)."""
        entry = self._by_identity.get(id(msg))
        if entry is None or entry.message is not msg:
            raise LookupError(f"{msg!r} did not come from this target's expect(), request() or history()")
        if entry.sim_time_ns is None:
            bounds = "unknown" if entry.earliest_ns is None else (
                f"between {format_ns(entry.earliest_ns)} and "
                f"{'?' if entry.latest_ns is None else format_ns(entry.latest_ns)}")
            raise LookupError(f"the exact publication time of {msg!r} is not known ({bounds}); on a socket target "
                              "a message's time is exact when expect() waited for it or it was published "
                              "during a one-tick advance")
        return entry.sim_time_ns

    def stats(self) -> Stats:
        self._check_open()
        return self._stats(_WallGuard(self.wall_timeout, "stats()"))

    def close(self) -> None:
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- internals -------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"{type(self).__name__} is closed")

    def _message(self, entry: _Entry):
        if entry.message is None:
            entry.message = self.types.decode(entry.msg_id, entry.payload)
            self._by_identity[id(entry.message)] = entry
        return entry.message

    def _find(self, start: int, condition: _Condition) -> Optional[_Entry]:
        for index in range(start, len(self._log)):
            entry = self._log[index]
            if entry.consumed or entry.injected or entry.msg_id != condition.msg_id:
                continue
            if condition.matches(self._message(entry)):
                return entry
        return None

    def _take(self, entry: _Entry, *, move_cursor: bool):
        entry.consumed = True
        if move_cursor:
            self._cursor = entry.index
        return entry.message

    def _free_message_summary(self, start: int) -> str:
        arrived = [entry for entry in self._log[start:] if not entry.injected]
        if not arrived:
            return "nothing was published meanwhile"
        counts = collections.Counter(self.types.remote[entry.msg_id].name if entry.msg_id in self.types.remote
                                     else str(entry.msg_id) for entry in arrived)
        text = "published meanwhile: " + ", ".join(f"{n} x {name}" for name, n in sorted(counts.items()))
        return text + "; last: " + "; ".join(repr(self._message(entry)) for entry in arrived[-_LAST_SHOWN:])

    def _timeout_text(self, condition: _Condition, budget: SimTime, start_ns: Optional[int], first_new: int) -> str:
        self._sync(_WallGuard(self.wall_timeout, "a timeout report"))
        if start_ns is not None:
            span = f"(simulated time {format_ns(start_ns)} to {format_ns(self.now_ns)})"
        else:
            span = "(no simulated time available from this sim; waited in wall time)"
        text = f"no {condition.describe()} within {budget} of simulated time {span}; "
        text += self._free_message_summary(first_new)
        earlier = next((entry for entry in self._log[:first_new]
                        if not entry.injected and entry.msg_id == condition.msg_id
                        and condition.matches(self._message(entry))), None)
        if earlier is not None:
            when = _when(earlier)
            state = "already returned by an earlier expect()" if earlier.consumed else \
                "before the point this expect() starts from (the last advance() or waited-for message)"
            text += f". Note: a matching {condition.info.name} was published{when}, {state}; see history()"
        return text

    # Free-running clocks (realtime, fast): see NetworkTarget.
    def _expect_free(self, condition: _Condition, budget: SimTime, guard: _WallGuard):
        raise NotImplementedError

    def _advance_free(self, ticks: int, guard: _WallGuard) -> None:
        raise NotImplementedError

    def _hung(self, guard: _WallGuard, detail: str) -> SimHungError:
        return SimHungError(f"the sim appears hung: {detail} within {guard.seconds:g} s of wall time "
                            f"(during {guard.what}). This is the wall-clock guard (--sil-wall-timeout), not "
                            "the test's condition; the sim may be hung, crashed or overloaded.")


class InprocTarget(Target):
    """The registered services and their bus in this process: no socket, no
    thread; time moves only in the verbs."""

    kind = "inproc"

    def __init__(self, rate_hz: int = DEFAULT_RATE_HZ, *, wall_timeout: float = DEFAULT_WALL_TIMEOUT,
                 default_within=DEFAULT_WITHIN) -> None:
        self.sim = _core.InprocSim(rate_hz)
        super().__init__(Decoder(), wall_timeout=wall_timeout, default_within=default_within)
        self.rate_hz = self.sim.rate_hz

    @property
    def now_ns(self) -> int:
        return self.sim.now_ns

    @property
    def build(self) -> dict:
        """version and git_revision of the build this target runs."""
        return _core.build_info()

    def _send(self, msg_id: int, payload: bytes, message) -> None:
        if isinstance(message, CatalogueMessage):
            self.sim.inject_datagram(msg_id.to_bytes(2, "little") + payload)
        else:
            self.sim.inject(message)

    def _send_raw(self, data: bytes) -> None:
        self.sim.inject_datagram(data)

    def _log_end(self) -> int:
        return self.sim.record_count

    def _sync(self, guard: _WallGuard) -> None:
        start = len(self._log)
        for offset, (time_ns, msg_id, payload, injected) in enumerate(self.sim.records(start)):
            self._log.append(_Entry(start + offset, msg_id, payload, time_ns, time_ns, injected))

    def _find(self, start: int, condition: _Condition) -> Optional[_Entry]:
        self._sync(None)
        return super()._find(start, condition)

    def _run(self, ticks: int, condition: Optional[_Condition], guard: _WallGuard) -> bool:
        remaining = ticks
        for _ in range(ticks // _INPROC_SLICE + 2):
            if remaining <= 0:
                return False
            count = min(remaining, _INPROC_SLICE)
            if condition is None:
                ran, matched = self.sim.advance(count), False
            else:
                field, value = condition.pushed if condition.pushed is not None else (None, None)
                ran, matched, _payload, _at = self.sim.advance_until(condition.msg_id, field, value, ticks=count)
            remaining -= ran
            if matched:
                return True
        return False

    def _stats(self, guard: _WallGuard) -> Stats:
        raw = self.sim.stats()
        return Stats(ticks=raw["ticks"], sim_time_ns=raw["sim_time_ns"],
                     published={name: n for name, n in raw["published"].items() if n},
                     received={name: n for name, n in raw["received"].items() if n},
                     drops={verdict: raw["drops"].get(verdict, 0) for verdict in VERDICTS},
                     trace_digest=raw["trace_digest"], trace_count=raw["trace_count"],
                     details={"accepted": raw["accepted"]})

    def __repr__(self) -> str:
        return f"<InprocTarget {self.rate_hz} Hz at {format_ns(self.now_ns)}>"


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
                 receive_buffer: int = _RX_BUFFER_REQUEST, bundle_bytes: Optional[int] = None) -> None:
        super().__init__(Decoder(), wall_timeout=wall_timeout, default_within=default_within)
        self.address = (host, port)
        self._bundle_request = bundle_request(host, bundle_bytes)
        self.bundles = 0  # bundles received
        # A smaller buffer than asked for only means advances are cut into smaller chunks.
        self._sock, self._selector = connected_socket(self.address, bind, receive_buffer)
        rcvbuf = self._sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        # Bytes of socket buffer the data may take, less the reply's share.
        # How many ticks one Advance may ask for: learnt as advances run (the policy sil.StepLink uses too).
        self._budget = _core.RxBudget(rcvbuf)
        self._segment_cost = 0  # buffer bytes of what _segment arrived in
        self._last_segment_cost = 0
        self._rx_buffer = bytearray(65536)
        self._sequences = itertools.count(1)
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
            self._close_socket()
            raise

    # -- attaching -------------------------------------------------------

    def _attach(self, require_control: bool, hello_timeout: Optional[float]) -> None:
        timeout = self.wall_timeout if require_control else min(hello_timeout or _HELLO_TIMEOUT, self.wall_timeout)
        guard = _WallGuard(timeout, "attaching (Hello)")
        reply = self._control("hello", pb.Hello(catalogue_hash=_core.catalogue_hash,
                                                bundle_bytes=self._bundle_request), guard,
                              silence_ok=not require_control)
        if reply is None:
            self._attach_without_control()
            return
        self.control = True
        self.ready = reply.ready
        self.clock = reply.ready.clock or "realtime"
        self.speed = reply.ready.speed or 1.0
        self.rate_hz = reply.ready.rate_hz or DEFAULT_RATE_HZ
        self.stepped = self.clock == "step"
        if reply.ready.catalogue_hash != _core.catalogue_hash:
            catalogue = self._control("get_catalogue", pb.GetCatalogue(),
                                      _WallGuard(self.wall_timeout, "GetCatalogue")).catalogue
            self.types = Decoder(Catalogue.from_proto(catalogue))
            self._warn_mismatch(reply.ready.catalogue_hash)

    def _attach_without_control(self) -> None:
        self.stepped = False
        request_id = 0x51C0FFEE
        self._send_datagram(_core.encode(_core.RevisionRequest(request_id=request_id)))
        guard = _WallGuard(self.wall_timeout, "attaching (RevisionRequest)")
        for _ in range(1_000_000):
            for entry in self._log:
                if entry.msg_id == int(_core.MsgId.RevisionResponse) and \
                        len(entry.payload) == _core.RevisionResponse.SIZE:
                    response = _core.RevisionResponse.from_bytes(entry.payload)
                    if response.request_id == request_id:
                        self.rate_hz = response.tick_rate_hz or DEFAULT_RATE_HZ
                        if response.catalogue_hash != _core.catalogue_hash:
                            self._warn_mismatch(response.catalogue_hash, fetched=False)
                        warnings.warn(f"{self._where()} has no control plane (no answer to Hello): waiting in "
                                      "wall time at speed 1", RuntimeWarning, stacklevel=4)
                        return
            if guard.expired():
                raise self._hung(guard, "no answer to Hello or to a RevisionRequest")
            self._pump(min(guard.remaining(), 0.25))
        raise self._hung(guard, "no answer to a RevisionRequest")

    def _warn_mismatch(self, theirs: int, *, fetched: bool = True) -> None:
        text = (f"{self._where()} was built from a different message catalogue: its hash is {theirs:#010x} "
                f"({theirs}), this harness's is {_core.catalogue_hash:#010x} ({_core.catalogue_hash}). ")
        if fetched:
            differing = ", ".join(self.types.mismatched) or "none of this build's"
            text += (f"Messages laid out differently or missing there: {differing}; they are decoded from the "
                     "sim's catalogue (target.types.<Name>).")
        else:
            text += ("Without a control plane its catalogue cannot be fetched: messages are decoded with this "
                     "build's layouts, which may not be the sim's.")
        warnings.warn(CatalogueMismatchWarning(text), stacklevel=4)

    def _where(self) -> str:
        host, port = self.address
        return f"the sim at {host}:{port}"

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

    # -- sending ---------------------------------------------------------

    def _send_datagram(self, data: bytes) -> None:
        try:
            self._sock.send(data)
        except ConnectionRefusedError as error:
            raise self._gone() from error

    def _send(self, msg_id: int, payload: bytes, message) -> None:
        self._send_datagram(msg_id.to_bytes(2, "little") + payload)
        self._dirty = True

    def _send_raw(self, data: bytes) -> None:
        self._send_datagram(data)
        self._dirty = True

    # -- receiving -------------------------------------------------------

    def _pump(self, timeout: float, want: Sequence[int] = ()) -> Optional[pb.Reply]:
        """Waits up to timeout for the socket, then reads what is there: data
        into the log, replies stamp the data before them. Returns the reply
        with a sequence in `want` as soon as it is read (what follows it stays in
        the socket; what follows it in the same bundle is taken first)."""
        if not self._selector.select(max(timeout, 0.0)):
            return None
        view = memoryview(self._rx_buffer)
        for _ in range(_RECV_BATCH):
            try:
                length = self._sock.recv_into(self._rx_buffer)
            except BlockingIOError:
                return None
            except ConnectionRefusedError as error:
                raise self._gone() from error
            self._segment_cost += _rx_cost(length)
            if length >= 2 and self._rx_buffer[0] | self._rx_buffer[1] << 8 == _core.BUNDLE_ID:
                self.bundles += 1
                try:
                    items = _core.unbundle(view[:length])
                except _core.DecodeError as error:
                    self.undecodable.append((bytes(view[:length]), f"bundle {error.verdict}"))
                    continue
                wanted = None
                for item in items:
                    reply = self._take_datagram(item, len(item))
                    if reply is not None and reply.sequence in want:
                        wanted = reply
                if wanted is not None:
                    return wanted
                continue
            reply = self._take_datagram(view, length)
            if reply is not None and reply.sequence in want:
                return reply
        return None

    def _take_datagram(self, data, length: int) -> Optional[pb.Reply]:
        """One datagram (data[:length]) as the sim would send it alone: data
        goes into the log; a control reply is returned."""
        if length < 2:
            self.undecodable.append((bytes(data[:length]), "too_short"))
            return None
        msg_id = data[0] | data[1] << 8
        if msg_id == control.CONTROL_REPLY_ID:
            reply = control.decode_reply(bytes(data[:length]))
            if reply is None:
                self.undecodable.append((bytes(data[:length]), "malformed control reply"))
                return None
            self._on_reply(reply)
            return reply
        size = self.types.size_of(msg_id)
        if size is None or size != length - 2:
            reason = "unknown_id" if size is None else "wrong_size"
            self.undecodable.append((bytes(data[:length]), reason))
            return None
        entry = _Entry(len(self._log), msg_id, bytes(data[2:length]), self._last_reply_ns, None)
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
        guard = _WallGuard(guard.seconds, guard.what)
        # A request that changes nothing is sent again when its reply is late:
        # a free-running sim can flood this socket, and a reply dropped with
        # the flood must not read as a hung sim. An Advance is never repeated.
        repeatable = command in ("hello", "get_stats", "get_catalogue")
        sequences: list[int] = []
        resend_at = 0.0
        for _ in range(1_000_000):
            if not sequences or (repeatable and time.monotonic() >= resend_at):
                sequences.append(next(self._sequences) & 0xFFFFFFFF)
                data = control.encode_request(sequences[-1], **{command: body})
                self._send_datagram(data)
                resend_at = time.monotonic() + _RESEND_AFTER * len(sequences)
            remaining = guard.remaining()
            if remaining <= 0:
                if silence_ok:
                    return None
                raise self._hung(guard, f"no reply to {control.describe(_parse_request(data))}{self._drops_note()}")
            wait = min(remaining, 0.25, max(resend_at - time.monotonic(), 0.0) if repeatable else 0.25)
            reply = self._pump(wait, want=sequences)
            if reply is not None:
                if reply.WhichOneof("result") == "error":
                    raise ControlError(control.describe(_parse_request(data)),
                                       control.error_name(reply.error.code), reply.error.message)
                return reply
            self._check_alive(guard)
        raise self._hung(guard, "no reply")

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

    def _check_alive(self, guard: _WallGuard) -> None:
        """Raises SimHungError at once when the sim is known to be gone."""

    def _gone(self) -> SimHungError:
        host, port = self.address
        return SimHungError(f"nothing listens at {host}:{port} any more (has the sim exited?)")

    def _drops_note(self) -> str:
        drops = _socket_drops(self._sock)
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
            "paused": stats.paused, "harness_rx_drops": _socket_drops(self._sock),
            "harness_undecodable": len(self.undecodable),
        }
        return Stats(ticks=stats.ticks, sim_time_ns=reply.sim_time_ns,
                     published={c.name: c.count for c in stats.published if c.count},
                     received={c.name: c.count for c in stats.received if c.count}, drops=drops,
                     trace_digest=stats.trace_digest, trace_count=stats.trace_count, details=details)

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

    def _close_socket(self) -> None:
        try:
            self._selector.close()
        except AttributeError:
            pass
        self._sock.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._close_socket()

    def __repr__(self) -> str:
        host, port = self.address
        return f"<{type(self).__name__} {host}:{port} clock={self.clock} {self.rate_hz} Hz>"


class ProcessTarget(NetworkTarget):
    """A sil-sim launched for this target (SimProcess), stepped over its
    control plane. clock="step" (the default) moves time only in the verbs;
    "realtime" and "fast" run freely and the verbs wait in wall time.
    egress="batched" (the default) has the sim send each tick's messages in
    one syscall, together with the reply that ends an advance: the harness
    sees the same datagrams in the same order as with "per-message", sooner.
    With batched egress the target also asks for bundles (see NetworkTarget)."""

    kind = "process"

    def __init__(self, sim_path: Union[str, os.PathLike], *, rate_hz: int = DEFAULT_RATE_HZ, clock: str = "step",
                 speed: Optional[float] = None, egress: str = "batched",
                 log_dir: Optional[Union[str, os.PathLike]] = None,
                 extra_args: Sequence[str] = (), wall_timeout: float = DEFAULT_WALL_TIMEOUT,
                 default_within=DEFAULT_WITHIN, receive_buffer: int = _RX_BUFFER_REQUEST,
                 bundle_bytes: Optional[int] = None) -> None:
        args = ["--port", "0", "--rate", str(rate_hz), "--clock", clock, "--egress", egress]
        if speed is not None:
            args += ["--speed", repr(float(speed))]
        self.process = SimProcess(sim_path, [*args, *extra_args], log_dir=log_dir,
                                  ready_timeout=max(10.0, float(wall_timeout)))
        try:
            super().__init__("127.0.0.1", self.process.port, wall_timeout=wall_timeout,
                             default_within=default_within, require_control=True, receive_buffer=receive_buffer,
                             bundle_bytes=bundle_bytes)
        except BaseException:
            self.process.stop()
            raise

    def _check_alive(self, guard: _WallGuard) -> None:
        if not self.process.is_running():
            raise SimHungError(f"sil-sim exited with status {self.process.returncode} during {guard.what}\n"
                               f"--- sil-sim stderr ---\n{self.process.stderr_text().rstrip() or '(empty)'}")

    def _gone(self) -> SimHungError:
        if not self.process.is_running():
            return SimHungError(f"sil-sim exited with status {self.process.returncode}\n--- sil-sim stderr ---\n"
                                f"{self.process.stderr_text().rstrip() or '(empty)'}")
        return super()._gone()

    def close(self) -> int:
        """Closes the socket and stops the sim; returns its exit status."""
        super().close()
        return self.process.stop()


_rx_cost = _core.RxBudget.cost  # socket buffer bytes a datagram of this length may take


def bundle_request(host: str, bundle_bytes: Optional[int]) -> int:
    """What a Hello to host asks for (docs/wire-format.md "Bundles"): bundle_bytes as
    given, or for None 65507 on loopback and 1472 (one Ethernet frame)
    elsewhere. Raises ValueError for anything that is not a byte count."""
    if bundle_bytes is None:
        return _LOOPBACK_BUNDLE_BYTES if _is_loopback(host) else _NETWORK_BUNDLE_BYTES
    if isinstance(bundle_bytes, bool) or not isinstance(bundle_bytes, int) or not 0 <= bundle_bytes <= 0xFFFFFFFF:
        raise ValueError(f"bundle_bytes must be None, 0 (no bundles) or a datagram size in bytes, "
                         f"got {bundle_bytes!r}")
    return bundle_bytes


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
    except (OSError, ValueError):
        return False


def _when(entry: _Entry) -> str:
    if entry.sim_time_ns is not None:
        return f" at {format_ns(entry.sim_time_ns)}"
    if entry.earliest_ns is not None and entry.latest_ns is not None:
        return f" between {format_ns(entry.earliest_ns)} and {format_ns(entry.latest_ns)}"
    return ""


def _parse_request(datagram: bytes) -> pb.Request:
    request = pb.Request()
    request.ParseFromString(datagram[2:])
    return request


def _socket_drops(sock: socket.socket) -> int:
    """Datagrams the kernel dropped for this socket (Linux /proc/net/udp),
    or 0 when that cannot be read."""
    try:
        inode = os.fstat(sock.fileno()).st_ino
        with open("/proc/net/udp") as table:
            next(table)
            for line in table:
                columns = line.split()
                if len(columns) > 12 and columns[9] == str(inode):
                    return int(columns[12])
    except (OSError, ValueError, StopIteration):
        pass
    return 0


def parse_target(spec: str) -> tuple[str, Optional[tuple[str, int]]]:
    """'inproc', 'process' or 'udp://HOST:PORT' -> (kind, address)."""
    if spec in ("inproc", "process"):
        return spec, None
    if spec.startswith("udp://"):
        rest = spec[len("udp://"):]
        host, sep, port_text = rest.rpartition(":")
        if sep and host and port_text.isdigit() and 0 < int(port_text) < 65536:
            return "udp", (host, int(port_text))
    raise ValueError(f"--sil-target: {spec!r} is not inproc, process or udp://HOST:PORT")
