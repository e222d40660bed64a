"""Durations of simulated time: the unit is always in the name."""

import datetime

import pytest

import sil
from sil.simtime import SimTime, format_ns, to_sim_time


def test_units():
    assert sil.ns(7).ns == 7
    assert sil.us(3).ns == 3_000
    assert sil.ms(250).ns == 250_000_000
    assert sil.s(2).ns == 2_000_000_000
    assert sil.ms(0.1).ns == 100_000  # the decimal value as written, not its binary approximation
    assert sil.s(1.5) == sil.ms(1500)
    assert sil.ms(10) + sil.ms(5) == sil.ms(15)
    assert sil.ms(10) * 3 == 3 * sil.ms(10) == sil.ms(30)
    assert sil.ms(1) < sil.s(1)


def test_repr_and_str_name_the_unit():
    assert repr(sil.s(2)) == "sil.s(2)"
    assert repr(sil.ms(1500)) == "sil.ms(1500)"
    assert repr(sil.ns(1)) == "sil.ns(1)"
    assert str(sil.ms(1500)) == "1.5 s"
    assert format_ns(37_670_000_000) == "37.67 s"
    assert format_ns(0) == "0 ns"
    assert format_ns(-2_000) == "-2 us"


def test_timedelta_is_accepted_and_bare_numbers_are_not():
    assert to_sim_time(datetime.timedelta(milliseconds=20), "within") == sil.ms(20)
    with pytest.raises(TypeError, match=r"within is simulated time: pass sil.ms\(...\)"):
        to_sim_time(20, "within")
    with pytest.raises(TypeError, match="whole nanoseconds"):
        SimTime(1.5)


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf")])
def test_no_negative_or_non_finite_durations(bad):
    with pytest.raises(ValueError):
        sil.ms(bad)


def test_the_target_has_the_helpers_too():
    # Inside a test whose fixture is named `sil`, sil.s() still works.
    assert sil.InprocTarget.s(2) == sil.s(2) and sil.InprocTarget.ms(3) == sil.ms(3)
