"""Durations of simulated time, with the unit in the name: ``sil.ms(250)``,
``sil.s(2)``, ``sil.ns(1)``, ``sil.us(10)``. The target verbs take these (or a
``datetime.timedelta``) wherever a time budget is asked for, so a bare number,
whose unit a reader would have to guess, is refused."""

from __future__ import annotations

import datetime
import math
import numbers
from fractions import Fraction
from typing import Union

NS_PER_US = 1_000
NS_PER_MS = 1_000_000
NS_PER_S = 1_000_000_000


class SimTime:
    """A non-negative duration of simulated time, held as whole nanoseconds."""

    __slots__ = ("_ns",)

    def __init__(self, ns: int) -> None:
        if isinstance(ns, bool) or not isinstance(ns, numbers.Integral):
            raise TypeError(f"SimTime() takes whole nanoseconds (an int), got {type(ns).__name__}; "
                            "use sil.ms(), sil.s() or sil.us() for other units")
        if ns < 0:
            raise ValueError(f"a duration of simulated time cannot be negative, got {ns} ns")
        self._ns = int(ns)

    @property
    def ns(self) -> int:
        return self._ns

    @property
    def ms(self) -> float:
        return self._ns / NS_PER_MS

    @property
    def seconds(self) -> float:
        return self._ns / NS_PER_S

    def __int__(self) -> int:
        return self._ns

    def __index__(self) -> int:
        return self._ns

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SimTime) and other._ns == self._ns

    def __hash__(self) -> int:
        return hash(("SimTime", self._ns))

    def __lt__(self, other: "SimTime") -> bool:
        if not isinstance(other, SimTime):
            return NotImplemented
        return self._ns < other._ns

    def __le__(self, other: "SimTime") -> bool:
        if not isinstance(other, SimTime):
            return NotImplemented
        return self._ns <= other._ns

    def __add__(self, other: "SimTime") -> "SimTime":
        if not isinstance(other, SimTime):
            return NotImplemented
        return SimTime(self._ns + other._ns)

    def __mul__(self, factor: int) -> "SimTime":
        if isinstance(factor, bool) or not isinstance(factor, numbers.Integral):
            return NotImplemented
        return SimTime(self._ns * int(factor))

    __rmul__ = __mul__

    def __repr__(self) -> str:
        for unit, scale in (("s", NS_PER_S), ("ms", NS_PER_MS), ("us", NS_PER_US)):
            if self._ns % scale == 0 and self._ns:
                return f"sil.{unit}({self._ns // scale})"
        return f"sil.ns({self._ns})"

    def __str__(self) -> str:
        return format_ns(self._ns)


def _scaled(value: Union[int, float, Fraction], scale: int, unit: str) -> SimTime:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"sil.{unit}() takes a number, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"sil.{unit}({value!r}) is not a duration")
    # Exact for ints and for the decimal value a float literal shows.
    exact = Fraction(value) * scale if isinstance(value, numbers.Rational) else Fraction(repr(float(value))) * scale
    return SimTime(round(exact))


def ns(value: int) -> SimTime:
    """``value`` nanoseconds of simulated time."""
    return _scaled(value, 1, "ns")


def us(value: Union[int, float]) -> SimTime:
    """``value`` microseconds of simulated time."""
    return _scaled(value, NS_PER_US, "us")


def ms(value: Union[int, float]) -> SimTime:
    """``value`` milliseconds of simulated time."""
    return _scaled(value, NS_PER_MS, "ms")


def s(value: Union[int, float]) -> SimTime:
    """``value`` seconds of simulated time."""
    return _scaled(value, NS_PER_S, "s")


def to_sim_time(value: object, what: str) -> SimTime:
    """A SimTime from a SimTime or a datetime.timedelta; anything else is
    refused with a TypeError that says how to write it."""
    if isinstance(value, SimTime):
        return value
    if isinstance(value, datetime.timedelta):
        total_us = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
        return SimTime(total_us * NS_PER_US)
    raise TypeError(f"{what} is simulated time: pass sil.ms(...), sil.s(...), sil.us(...), sil.ns(...) "
                    f"or a datetime.timedelta, got {value!r}")


def format_ns(value: int) -> str:
    """A time in nanoseconds for people, exactly: '2 s', '1.5 ms', '120 ns'."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    for unit, scale, digits in (("s", NS_PER_S, 9), ("ms", NS_PER_MS, 6), ("us", NS_PER_US, 3)):
        if value >= scale:
            whole, rest = divmod(value, scale)
            fraction = str(rest).rjust(digits, "0").rstrip("0")
            return f"{sign}{whole}{'.' + fraction if fraction else ''} {unit}"
    return f"{sign}{value} ns"
