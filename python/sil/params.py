"""``sil.params``: the system's parameters as a mapping, on every target
(docs/parameters.md).

    sil.params["thermostat.hysteresis_c"] = 0.8        # takes effect at the next tick
    sil.params.get("monitor.persistence_ns")
    sil.params.set({"plant.ambient_c": 25.0, "plant.loss_w_per_k": 12.0})  # all or nothing
    sil.params.table()                                 # types, ranges, units, values

A change the sim refuses (an unknown name, a wrong type, a value out of
range, a read-only or restart-only parameter) raises ParamError naming each
parameter and the rule, and changes nothing. Every value a test changes is
remembered, so restore() (the pytest fixture calls it when the test ends)
puts them back.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Optional, Union

from sil.catalogue import ParamInfo

Value = Union[bool, int, float]


class ParamError(ValueError):
    """The sim refused a parameter change; nothing changed. The message
    names each parameter and the rule it breaks."""


@dataclass(frozen=True)
class ParamState:
    """One row of table(): the parameter's declaration and its value now."""

    info: ParamInfo
    value: Value

    def __getattr__(self, name: str):
        return getattr(self.info, name)

    def __str__(self) -> str:
        info = self.info
        rules = "".join((" read-only" if info.read_only else "", " restart" if info.restart else ""))
        bounds = "" if info.type == "bool" else f" [{info.min}..{info.max}]"
        unit = f" {info.unit}" if info.unit else ""
        return f"{info.name} = {self.value!r}{unit} ({info.type}{bounds}{rules}, default {info.default!r}): " \
               f"{info.description}"


class Params(MutableMapping):
    """The parameters of the sim a target drives. Reads and writes go to
    the sim each time (no cache), so a value is always the sim's."""

    def __init__(self, target) -> None:
        self._target = target
        self._original: dict[str, Value] = {}

    # -- the mapping ------------------------------------------------------

    def __getitem__(self, name: str) -> Value:
        if not isinstance(name, str):
            raise TypeError(f"parameter names are str, got {type(name).__name__}")
        return self._target._get_params([name])[name]

    def __setitem__(self, name: str, value: Value) -> None:
        self.set({name: value})

    def __delitem__(self, name: str) -> None:
        raise TypeError("a parameter cannot be deleted; set it, or restore() the values before the test's changes")

    def __iter__(self) -> Iterator[str]:
        return iter(info.name for info in self._target._param_table())

    def __len__(self) -> int:
        return len(self._target._param_table())

    def __contains__(self, name: object) -> bool:
        return any(info.name == name for info in self._target._param_table())

    def __repr__(self) -> str:
        return f"<sil.params {self.values_now()!r}>"

    # -- beyond a mapping -------------------------------------------------

    def values_now(self) -> dict[str, Value]:
        """Every parameter's value, in one request."""
        return self._target._get_params(None)

    def set(self, values: Mapping[str, Value]) -> dict[str, Value]:
        """Sets every {name: value}, or none of them (ParamError). Takes
        effect at the next tick boundary, in order with what the test
        injected before it. Returns the new values."""
        if not isinstance(values, Mapping) or not values:
            raise TypeError("set() takes a non-empty {name: value} mapping")
        for name, value in values.items():
            if not isinstance(name, str):
                raise TypeError(f"parameter names are str, got {type(name).__name__}")
            if not isinstance(value, (bool, int, float)):
                raise TypeError(f"{name}: a parameter value is a bool, an int or a float, "
                                f"got {type(value).__name__}")
        # The values before the first change of each, to restore; an unknown
        # name is left to the sim to refuse.
        known = {info.name for info in self._target._param_table()}
        unseen = [name for name in values if name not in self._original and name in known]
        before = self._target._get_params(unseen) if unseen else {}
        result = self._target._set_params(dict(values))
        self._original.update(before)
        return result

    def table(self) -> list[ParamState]:
        """Every parameter's declaration (type, default, range, unit,
        description, rules) with its value now, in catalogue order."""
        values = self.values_now()
        return [ParamState(info, values[info.name]) for info in self._target._param_table()]

    def changed(self) -> dict[str, Value]:
        """{name: value before this target first changed it}."""
        return dict(self._original)

    def restore(self) -> Optional[dict[str, Value]]:
        """Puts back every parameter this target changed, in one all-or-nothing
        change; returns what it set (None when nothing had changed)."""
        if not self._original:
            return None
        original, self._original = self._original, {}
        self._target._set_params(original)
        return original
