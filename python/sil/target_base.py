"""What every target shares: the verbs on simulated time (``Target``), the
log of what the sim published, the wall-clock guard and what expect()
waits for. The targets themselves are in target_inproc, target_network and
target_process; sil.targets says what the verbs mean."""

from __future__ import annotations

import collections
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field as dataclass_field
from typing import Any, Callable, NamedTuple, Optional

from sil import control, simtime
from sil.catalogue import INT_RANGES, Decoder, MessageInfo, check_request_pair, param_value_of
from sil.client import SilTimeout, _describe_predicate
from sil.control import pb
from sil.faults import FaultError, Faults
from sil.params import ParamError, Params
from sil.simtime import NS_PER_S, SimTime, format_ns, to_sim_time

_FAULT_BODIES = {"add_fault": pb.AddFault, "remove_fault": pb.RemoveFault, "list_faults": pb.ListFaults}
DEFAULT_WALL_TIMEOUT = 30.0
DEFAULT_WITHIN = SimTime(NS_PER_S)
DEFAULT_RATE_HZ = 100
VERDICTS = ("too_short", "unknown_id", "wrong_size", "truncated")
_LAST_SHOWN = 5


class SimHungError(RuntimeError):
    """The sim did not answer within the wall-clock guard, or is gone. This is
    about the simulator (hung, crashed, or overloaded), not about the
    condition the test was waiting for."""


class SimAttachError(RuntimeError):
    """The sim is alive (it sends datagrams) but offers nothing a target can
    attach with: no control plane and no RevisionService. The message says
    which is missing; it is not a hung sim."""


@dataclass
class Stats:
    """The sim's counters. ``published`` counts every publication on the bus
    (services and injections) by message name, zero counts left out;
    ``received`` counts what the sim accepted from harnesses by name;
    ``drops`` counts inbound datagrams dropped by verdict (all four present);
    ``trace_digest``/``trace_count`` fold every publication (sim time, MsgId,
    payload) in order, so two runs with equal digests published the same.
    ``counters`` holds what the services count (docs/counters.md) by
    "<instance>.<counter>", every declared counter, zeros included."""

    ticks: int
    sim_time_ns: int
    published: dict[str, int]
    received: dict[str, int]  # accepted from the harness (inject, valid inject_raw), zero counts left out
    drops: dict[str, int]
    trace_digest: int
    trace_count: int
    details: dict[str, Any] = dataclass_field(default_factory=dict)
    counters: dict[str, int] = dataclass_field(default_factory=dict)


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


def _no_wall_budget(timeout, wall_timeout, verb: str) -> None:
    """A target's waits are budgets of simulated time: a wall-clock one given
    here is a mistake worth a clear error, not a silently ignored keyword."""
    if timeout is not None or wall_timeout is not None:
        given = "timeout=" if timeout is not None else "wall_timeout="
        raise TypeError(f"{verb}(): a target waits in simulated time: within=sil.ms(...) or sil.s(...), not "
                        f"{given} (wall-clock seconds). The wall-clock guard against a hung sim is the target's "
                        "wall_timeout, given when it is made (--sil-wall-timeout for the sil fixture)")


class JournalEntry(NamedTuple):
    """Something the test did to the sim, at the simulated time it did it
    (the target's now_ns): an injected message (``msg_id`` and ``payload``),
    a raw datagram, a parameter change or a fault added or removed
    (``text``). The failure report lists them."""

    time_ns: int
    kind: str  # "injected", "injected_raw", "param", "fault"
    msg_id: Optional[int] = None
    payload: bytes = b""
    text: str = ""


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


class Target:
    """The verbs; subclasses supply the sim."""

    kind = "?"

    # The duration helpers, here too: inside a test whose fixture is named
    # `sil`, sil.s(2) then still means two seconds of simulated time.
    ns = staticmethod(simtime.ns)
    ParamError = ParamError  # sil.ParamError, for a test whose fixture is named `sil`
    FaultError = FaultError
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
        self._params: Optional[Params] = None
        self._faults: Optional[Faults] = None
        self._closed = False
        self.journal: list[JournalEntry] = []  # what the test did, in order (sil.failure_report)

    # -- what the subclass provides --------------------------------------

    rate_hz: int
    stepped = True  # time moves only when a verb moves it

    @property
    def now_ns(self) -> int:
        raise NotImplementedError

    @property
    def _known_now_ns(self) -> int:
        """now_ns as far as the target knows it without asking the sim: the
        journal's timestamp, which must not cost an inject a round trip."""
        return self.now_ns

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

    def _counts_publications(self) -> bool:
        """Whether _stats() can say what the sim has published."""
        return True

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
        self.journal.append(JournalEntry(self._known_now_ns, "injected", msg_id, payload))

    def inject_raw(self, data) -> None:
        """Hands data to the sim exactly as a datagram from the network: it is
        published if valid, else dropped and counted in stats().drops."""
        self._check_open()
        data = bytes(memoryview(data))
        if len(data) >= 2 and int.from_bytes(data[:2], "little") == control.CONTROL_REQUEST_ID:
            raise ValueError("inject_raw(): MsgId 0xFFF0 is a control-plane request, not a bus message; "
                             "use the target's verbs")
        self._send_raw(data)
        self.journal.append(JournalEntry(self._known_now_ns, "injected_raw", None, data,
                                         f"raw datagram, {len(data)} bytes: {data[:32].hex()}"
                                         + ("..." if len(data) > 32 else "")))

    def request(self, req, response_type, within=None, *, timeout=None, wall_timeout=None):
        """Injects req and returns the response_type message with the same
        request_id, published within `within` of simulated time."""
        __tracebackhide__ = True
        _no_wall_budget(timeout, wall_timeout, "request")
        check_request_pair(type(req), response_type, "inject() and expect()")
        request_id = req.request_id
        self.inject(req)
        return self.expect(response_type, where={"request_id": request_id}, within=within)

    def expect(self, msg_type, where=None, within=None, *, timeout=None, wall_timeout=None):
        """The first unconsumed msg_type message published from the point the
        test has reached on (see the module doc) for which `where` holds:
        a dict {field: value} (exact equality; one field is evaluated inside
        the sim, the rest here) or a callable(msg) -> bool, evaluated here
        after each tick that published a msg_type. If none is there yet,
        simulated time runs until one is published, for at most `within`
        (default: the target's default_within); the sim then stops at the
        end of that tick. Raises SilTimeout when `within` passes first."""
        _no_wall_budget(timeout, wall_timeout, "expect")
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

    @property
    def params(self) -> "Params":
        """The system's parameters as a mapping (sil.params, docs/parameters.md):
        read, set (all or nothing, at the next tick boundary), table(),
        restore()."""
        self._check_open()
        if self._params is None:
            self._params = Params(self)
        return self._params

    @property
    def fault(self) -> "Faults":
        """Fault injection (sil.fault, docs/faults.md): drop, delay,
        duplicate, freeze, field, rate_limit; list(), kinds(). Every fault
        a test adds is removed when the test ends."""
        self._check_open()
        if self._faults is None:
            self._faults = Faults(self)
        return self._faults

    def _fault_request(self, command: str, fields: Optional[dict] = None):
        body = _FAULT_BODIES[command](**(fields or {}))
        try:
            reply = self._state_request(command, body)
        except control.ControlError as error:
            if error.code == "INVALID_ARGUMENT":
                raise FaultError(error.detail) from None
            raise
        if command == "add_fault":
            text = self._describe_fault(reply.faults.added, fields)
            self.journal.append(JournalEntry(self._known_now_ns, "fault", text=text))
        elif command == "remove_fault":
            self.journal.append(JournalEntry(self._known_now_ns, "fault", text=f"removed fault #{fields['id']}"))
        return reply

    def _describe_fault(self, fault_id: int, fields: dict) -> str:
        info = self.types.info(fields["msg_id"])
        what = [f"added fault #{fault_id}: {fields['kind']}", info.name if info is not None else str(fields["msg_id"])]
        if fields.get("instance"):  # drop HeaterCommand of thermostat
            what += ["of", fields["instance"]]
        if fields["kind"] == "field":  # temperature_c offset 5.0
            what += [fields["field"], fields["op"], repr(fields["value"])]
        what += [f"{key}={value!r}" for key, value in fields.items()
                 if key not in ("kind", "msg_id", "start_ns", "end_ns", "field", "op", "value", "instance")
                 and value not in (0, None, "") and not (key == "p" and value == 1.0)]
        text = " ".join(what)
        if fields.get("start_ns", 0) > self._known_now_ns:
            text += f", from {format_ns(fields['start_ns'])}"
        if fields.get("end_ns", 0):
            text += f", until {format_ns(fields['end_ns'])}"
        return text

    def _state_request(self, command: str, body):
        """One control request that reads or changes state; its Reply, or
        ControlError."""
        raise NotImplementedError

    # sil.params, over the same request every target answers as sil-sim's
    # control plane does (the in-process one through InprocSim.control).
    def _get_params(self, names: Optional[list]) -> dict:
        try:
            reply = self._state_request("get_params", pb.GetParams(names=names or []))
        except control.ControlError as error:
            if error.code == "INVALID_ARGUMENT":
                raise KeyError(error.detail) from None
            raise
        return {setting.name: param_value_of(setting.value) for setting in reply.params.values}

    def _set_params(self, values: dict) -> dict:
        request = pb.SetParams(set=[pb.ParamSetting(name=name, value=control.param_value_pb(value))
                                    for name, value in values.items()])
        try:
            reply = self._state_request("set_params", request)
        except control.ControlError as error:
            if error.code == "INVALID_ARGUMENT":
                raise ParamError(error.detail) from None
            raise
        self.journal.append(JournalEntry(self._known_now_ns, "param", text="set " + ", ".join(
            f"{name} = {value!r}" for name, value in values.items())))
        return {setting.name: param_value_of(setting.value) for setting in reply.params.values}

    def _param_table(self) -> tuple:
        return self.types.remote.params

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
        elif earlier is None:
            text += self._never_published_note(condition.info.name)
        return text

    def _never_published_note(self, name: str) -> str:
        """A note for a wait on a message the sim has never published at all:
        then what is missing is likely the service that publishes it."""
        if not self._counts_publications():
            return ""
        published = self._stats(_WallGuard(self.wall_timeout, "a timeout report")).published
        if published.get(name):
            return ""
        text = f". The sim has published no {name} since it started: is the service that publishes it in its system?"
        if name == "RevisionResponse":
            text += (" (the framework's RevisionService answers RevisionRequest; a system with "
                     "framework_services = false has none)")
        return text

    # Free-running clocks (realtime, fast): see NetworkTarget.
    def _expect_free(self, condition: _Condition, budget: SimTime, guard: _WallGuard):
        raise NotImplementedError

    def _advance_free(self, ticks: int, guard: _WallGuard) -> None:
        raise NotImplementedError

    def _hung(self, guard: _WallGuard, detail: str) -> SimHungError:
        seen = self._process_note()
        return SimHungError(f"the sim appears hung: {detail} within {guard.seconds:g} s of wall time "
                            f"(during {guard.what}). This is the wall-clock guard (--sil-wall-timeout), not "
                            "the test's condition; " + (seen or "the sim may be hung, crashed or overloaded."))

    def _process_note(self) -> str:
        """What can be seen of the sim's process from here, as a sentence
        (e.g. that it is stopped), or "" when nothing can."""
        return ""


def _when(entry: _Entry) -> str:
    if entry.sim_time_ns is not None:
        return f" at {format_ns(entry.sim_time_ns)}"
    if entry.earliest_ns is not None and entry.latest_ns is not None:
        return f" between {format_ns(entry.earliest_ns)} and {format_ns(entry.latest_ns)}"
    return ""
