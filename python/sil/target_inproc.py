"""InprocTarget: the services and bus in this process (the system module's
InprocSim, see sil._system), stepped directly."""

from __future__ import annotations

from typing import Optional

from sil._system import system_module
from sil.catalogue import CatalogueMessage, Decoder
from sil import control
from sil.control import ControlError, pb
from sil.params import ParamError
from sil.simtime import format_ns
from sil.target_base import (
    DEFAULT_RATE_HZ,
    DEFAULT_WALL_TIMEOUT,
    DEFAULT_WITHIN,
    VERDICTS,
    Stats,
    Target,
    _Condition,
    _Entry,
    _WallGuard,
)

# Ticks per call into C++, so a long advance still lets Python handle a
# signal (Ctrl-C) between calls.
_INPROC_SLICE = 1 << 16


class InprocTarget(Target):
    """The registered services and their bus in this process: no socket, no
    thread; time moves only in the verbs. params: {name: value} set before
    the services are built, as sil-sim's --param does."""

    kind = "inproc"

    def __init__(self, rate_hz: int = DEFAULT_RATE_HZ, *, wall_timeout: float = DEFAULT_WALL_TIMEOUT,
                 default_within=DEFAULT_WITHIN, params: Optional[dict] = None) -> None:
        self._system = system_module()
        try:
            self.sim = self._system.InprocSim(rate_hz, params=params)
        except ValueError as error:
            if params and "params:" in str(error):
                raise ParamError(str(error)) from None
            raise
        super().__init__(Decoder(), wall_timeout=wall_timeout, default_within=default_within)
        self.rate_hz = self.sim.rate_hz

    @property
    def now_ns(self) -> int:
        return self.sim.now_ns

    @property
    def build(self) -> dict:
        """version and git_revision of the build this target runs."""
        return self._system.build_info()

    def _send(self, msg_id: int, payload: bytes, message) -> None:
        if isinstance(message, CatalogueMessage):
            self.sim.inject_datagram(msg_id.to_bytes(2, "little") + payload)
        else:
            self.sim.inject(message)

    def _send_raw(self, data: bytes) -> None:
        self.sim.inject_datagram(data)

    def _state_request(self, command: str, body):
        request = pb.Request(sequence=1)
        getattr(request, command).CopyFrom(body)
        reply = pb.Reply()
        reply.ParseFromString(self.sim.control(request.SerializeToString()))
        if reply.WhichOneof("result") == "error":
            raise ControlError(command, control.error_name(reply.error.code), reply.error.message)
        return reply

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
                     details={"accepted": raw["accepted"]}, counters=dict(raw["counters"]))

    def __repr__(self) -> str:
        return f"<InprocTarget {self.rate_hz} Hz at {format_ns(self.now_ns)}>"
