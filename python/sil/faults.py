"""``sil.fault``: what a test asks to go wrong, on every target
(docs/faults.md).

    with sil.fault.drop(PlantTemperature, p=0.3, seed=1):   # removed when the block ends
        sil.advance(sil.s(10))
    sil.fault.freeze(PlantTemperature, after=sil.s(2))        # until removed, or the test ends
    sil.fault.field(PlantTemperature, "temperature_c", offset=5.0)

A fault acts on every publication of its message type on the sim's bus,
from a service or from the harness, before any subscriber sees it;
`instance="left"` limits it to what that service instance publishes. The sim
checks it when it is added and refuses one that makes no sense with
FaultError, naming the problem. `after=` and `lasting=` are simulated
durations from now.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from sil.simtime import to_sim_time


class FaultError(ValueError):
    """The sim refused a fault (or has no fault injection); nothing was added."""


@dataclass(frozen=True)
class FaultInfo:
    """One active fault as the sim lists it."""

    id: int
    kind: str
    message: str   # the message type's name
    start_ns: int
    end_ns: Optional[int]  # None: until removed
    affected: int  # messages it dropped, delayed, duplicated or changed so far
    details: dict  # the kind's own settings (p, seed, delay_ns, field, op, value, ...)
    instance: Optional[str] = None  # only what this service instance publishes; None: any publisher


class Fault:
    """A fault the sim has accepted. A context manager: the block's end
    removes it."""

    def __init__(self, faults: "Faults", fault_id: int, kind: str, message: str) -> None:
        self._faults = faults
        self.id = fault_id
        self.kind = kind
        self.message = message
        self.removed = False

    @property
    def affected(self) -> int:
        """Messages it has dropped, delayed, duplicated or changed so far."""
        for info in self._faults.list():
            if info.id == self.id:
                return info.affected
        raise LookupError(f"{self!r} is no longer active")

    def remove(self) -> None:
        if not self.removed:
            self._faults._remove(self.id)
            self.removed = True

    def __enter__(self) -> "Fault":
        return self

    def __exit__(self, *exc_info) -> None:
        self.remove()

    def __repr__(self) -> str:
        return f"<sil fault {self.id}: {self.kind} on {self.message}{' (removed)' if self.removed else ''}>"


class Faults:
    """The fault verbs of one target."""

    def __init__(self, target) -> None:
        self._target = target
        self._added: list[Fault] = []

    # -- the verbs ---------------------------------------------------------

    def drop(self, msg_type, *, p: float = 1.0, seed: int = 0,
             after=None, lasting=None, instance: Optional[str] = None) -> Fault:
        """Drops each message (with probability p, from a generator seeded with seed)."""
        return self._add("drop", msg_type, after, lasting, instance, p=p, seed=seed)

    def delay(self, msg_type, by, *, p: float = 1.0, seed: int = 0,
              after=None, lasting=None, instance: Optional[str] = None) -> Fault:
        """Delivers each message `by` simulated time later, at the first tick boundary from then on."""
        return self._add("delay", msg_type, after, lasting, instance, p=p, seed=seed,
                         delay_ns=to_sim_time(by, "by").ns)

    def duplicate(self, msg_type, *, p: float = 1.0, seed: int = 0,
                  after=None, lasting=None, instance: Optional[str] = None) -> Fault:
        """Delivers each message twice."""
        return self._add("duplicate", msg_type, after, lasting, instance, p=p, seed=seed)

    def freeze(self, msg_type, *, after=None, lasting=None, instance: Optional[str] = None) -> Fault:
        """Holds the last value from before its start (a frozen sensor):
        every message of the type carries it until the fault ends."""
        return self._add("freeze", msg_type, after, lasting, instance)

    def field(self, msg_type, name: str, *, set: Optional[float] = None, offset: Optional[float] = None,  # noqa: A002
              scale: Optional[float] = None, noise: Optional[float] = None, p: float = 1.0, seed: int = 0,
              after=None, lasting=None, instance: Optional[str] = None) -> Fault:
        """Overrides a numeric field: set= a value, offset= added, scale=
        multiplied, or noise= a standard deviation of seeded Gaussian noise
        added (exactly one)."""
        given = {op: value for op, value in (("set", set), ("offset", offset), ("scale", scale), ("noise", noise))
                 if value is not None}
        if len(given) != 1:
            raise TypeError("field() takes exactly one of set=, offset=, scale= or noise=")
        (op, value), = given.items()
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"field(): {op}= takes a number, got {type(value).__name__}")
        if not isinstance(name, str):
            raise TypeError(f"field(): the field name is a str, got {type(name).__name__}")
        return self._add("field", msg_type, after, lasting, instance, p=p, seed=seed, field=name, op=op,
                         value=float(value))

    def rate_limit(self, msg_type, every, *,
                   after=None, lasting=None, instance: Optional[str] = None) -> Fault:
        """Lets at most one message through per `every` of simulated time; drops the rest."""
        return self._add("rate_limit", msg_type, after, lasting, instance,
                         min_interval_ns=to_sim_time(every, "every").ns)

    # -- listing and removing ------------------------------------------------

    def list(self) -> list[FaultInfo]:
        """Every fault active in the sim (this test's and anyone else's)."""
        return [self._info(state) for state in self._target._fault_request("list_faults").faults.faults]

    def kinds(self) -> list[str]:
        return list(self._target._fault_request("list_faults").faults.kinds)

    @property
    def available(self) -> bool:
        """False when the sim was built without fault injection."""
        return self._target._fault_request("list_faults").faults.available

    def remove_all(self) -> None:
        """Removes every fault this target added."""
        for fault in self._added:
            fault.remove()
        self._added = []

    # -- internals -------------------------------------------------------------

    def _add(self, kind: str, msg_type, after, lasting, instance, **settings) -> Fault:
        msg_id, info = self._target.types.resolve(msg_type)
        if instance is not None:
            if not isinstance(instance, str) or not instance:
                raise TypeError(f"{kind}(): instance= is a service instance's name, got {instance!r}")
            settings["instance"] = instance
        for key in ("p", "seed"):
            value = settings.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise TypeError(f"{kind}(): {key}= takes a number, got {type(value).__name__}")
        if "seed" in settings and not (isinstance(settings["seed"], int) and 0 <= settings["seed"] < 2 ** 64):
            raise ValueError(f"{kind}(): seed= is an int from 0 to 2**64-1, got {settings['seed']!r}")
        start_ns = self._target.now_ns + (0 if after is None else to_sim_time(after, "after").ns)
        end_ns = 0 if lasting is None else start_ns + to_sim_time(lasting, "lasting").ns
        if lasting is not None and end_ns == start_ns:
            raise ValueError(f"{kind}(): lasting= must be longer than zero")
        request = dict(kind=kind, msg_id=msg_id, start_ns=start_ns, end_ns=end_ns, **settings)
        reply = self._target._fault_request("add_fault", request)
        fault = Fault(self, reply.faults.added, kind, info.name)
        self._added.append(fault)
        return fault

    def _remove(self, fault_id: int) -> None:
        self._target._fault_request("remove_fault", {"id": fault_id})
        self._added = [fault for fault in self._added if fault.id != fault_id]

    def _info(self, state) -> FaultInfo:
        spec = state.fault
        known = self._target.types.remote
        name = known[spec.msg_id].name if spec.msg_id in known else str(spec.msg_id)
        details = {"p": spec.p, "seed": spec.seed}
        if spec.kind == "delay":
            details["delay_ns"] = spec.delay_ns
        if spec.kind == "rate_limit":
            details["min_interval_ns"] = spec.min_interval_ns
        if spec.kind == "field":
            details.update(field=spec.field, op=spec.op, value=spec.value)
        return FaultInfo(state.id, spec.kind, name, spec.start_ns, spec.end_ns or None, state.affected, details,
                         spec.instance or None)
