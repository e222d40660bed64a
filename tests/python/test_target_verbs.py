"""The verbs mean the same on the in-process target and on a launched
sil-sim under the step clock: every test here runs against both."""

import datetime
import re

import pytest

import sil
from sil import (
    Heartbeat,
    HeaterCommand,
    OverTemperatureFault,
    PlantTemperature,
    RevisionRequest,
    RevisionResponse,
    SetPoint,
    SilTimeout,
)

PERIOD_NS = 10_000_000  # at the default 100 Hz


def test_time_moves_only_in_the_verbs(target):
    assert target.now_ns == 0
    target.inject(SetPoint(setpoint_c=30.0))
    target.history()
    target.stats()
    assert target.now_ns == 0
    target.advance(ticks=3)
    assert target.now_ns == 3 * PERIOD_NS
    target.advance(ms=15)  # rounded up to whole ticks
    assert target.now_ns == 5 * PERIOD_NS
    target.advance(datetime.timedelta(milliseconds=20))
    target.advance(sil.ms(0))
    assert target.now_ns == target.stats().sim_time_ns == 7 * PERIOD_NS
    assert target.stats().ticks == 7


def test_a_response_to_an_injection_is_there_at_the_same_tick(target):
    response = target.request(RevisionRequest(request_id=9), RevisionResponse, within=sil.ms(10))
    assert response.request_id == 9
    assert target.time_of(response) == 0 and target.now_ns == 0


def test_expect_waits_for_the_next_one_and_stops_at_the_end_of_its_tick(target):
    beat = target.expect(Heartbeat, where={"sequence": 3}, within=sil.s(1))
    assert beat.sim_time_ns == 300_000_000 == target.time_of(beat)
    assert target.now_ns == beat.sim_time_ns + PERIOD_NS


def test_expect_never_returns_a_message_twice_and_skips_what_came_before_an_advance(target):
    first = target.expect(Heartbeat, within=sil.ms(10))
    assert first.sequence == 0
    target.advance(ms=250)  # heartbeats 1 and 2 are published meanwhile
    following = target.expect(Heartbeat, within=sil.ms(100))
    assert following.sequence == 3
    assert [beat.sequence for beat in target.history(Heartbeat)] == [0, 1, 2, 3]


def test_what_follows_the_awaited_message_in_its_tick_stays_expectable(target):
    # The thermostat answers each reading with a command, depth-first, so in
    # bus order a tick's HeaterCommand comes before its PlantTemperature.
    reading = target.expect(PlantTemperature, within=sil.ms(10))
    command = target.expect(HeaterCommand, within=sil.ms(10))
    assert target.time_of(command) == target.time_of(reading) + PERIOD_NS


def test_several_answers_at_one_boundary_come_back_in_order(target):
    for request_id in (5, 6, 7):
        target.inject(RevisionRequest(request_id=request_id))
    assert [target.expect(RevisionResponse, within=sil.ms(10)).request_id for _ in range(3)] == [5, 6, 7]


def test_where_with_several_fields_and_with_a_predicate(target):
    beat = target.expect(Heartbeat, where={"sequence": 2, "tick": 20}, within=sil.s(1))
    assert (beat.sequence, beat.tick) == (2, 20)
    later = target.expect(Heartbeat, where=lambda hb: hb.sequence % 2 == 1, within=sil.s(1))
    assert later.sequence == 3


def test_a_float_field_compares_with_an_int_too(target):
    target.inject(SetPoint(setpoint_c=0.0))  # heater off: it stays off
    off = target.expect(HeaterCommand, where={"power_w": 0}, within=sil.ms(10))
    assert off.power_w == 0.0


def test_timeout_says_what_was_awaited_and_what_was_published(target):
    with pytest.raises(SilTimeout) as failure:
        target.expect(OverTemperatureFault, where={"active": 1}, within=sil.ms(50))
    text = str(failure.value)
    assert "no OverTemperatureFault with active == 1 within 50 ms of simulated time" in text
    assert "(simulated time 0 ns to 50 ms)" in text
    assert re.search(r"published meanwhile: 1 x Heartbeat, 5 x HeaterCommand, 5 x PlantTemperature", text), text
    assert target.now_ns == 50_000_000
    assert isinstance(failure.value, AssertionError)


def test_timeout_points_at_a_match_from_before_the_advance(target):
    target.advance(ms=50)
    # Exact in-process; over a socket the harness knows it came in the first 5 ticks.
    with pytest.raises(SilTimeout, match="a matching Heartbeat was published (at 0 ns|between 0 ns and 40 ms), "
                                         "before the point"):
        target.expect(Heartbeat, where={"sequence": 0}, within=sil.ms(50))


def test_inject_raw_is_judged_like_a_datagram_from_the_network(target):
    target.inject_raw(sil.encode(RevisionRequest(request_id=3)))
    target.inject_raw(b"\xd0\x07\x00")
    target.inject_raw(b"\x34\x08" + bytes(9))
    assert target.expect(RevisionResponse, within=sil.ms(10)).request_id == 3
    stats = target.stats()
    assert stats.drops == {"too_short": 0, "unknown_id": 0, "wrong_size": 2, "truncated": 0}
    assert stats.received == {"RevisionRequest": 1}
    with pytest.raises(ValueError, match="0xFFF0 is a control-plane request"):
        target.inject_raw(b"\xf0\xff\x08\x01")


def test_injections_count_as_published_but_are_not_echoed(target):
    target.inject(HeaterCommand(power_w=1000.0))
    target.advance(ticks=1)
    stats = target.stats()
    assert stats.published["HeaterCommand"] == 2  # the injected one and the thermostat's
    assert len(target.history(HeaterCommand)) == 1
    # It reached the plant before the tick: the first reading has its power.
    assert target.history(PlantTemperature)[0].heater_power_w == 1000.0


def test_bad_arguments_are_clear_errors(target):
    with pytest.raises(TypeError, match=r"within is simulated time: pass sil.ms\(...\)"):
        target.expect(Heartbeat, within=100)
    with pytest.raises(ValueError, match="Heartbeat has no field 'seq' \\(fields: sequence, tick, sim_time_ns\\)"):
        target.expect(Heartbeat, where={"seq": 1})
    with pytest.raises(ValueError, match="out of range .* can never match"):
        target.expect(Heartbeat, where={"sequence": -1})
    with pytest.raises(TypeError, match="compared with an int, got float"):
        target.expect(Heartbeat, where={"sequence": 1.0})
    with pytest.raises(TypeError, match="got bool"):
        target.expect(OverTemperatureFault, where={"active": True})
    with pytest.raises(TypeError, match="exactly one of a duration, ms= or ticks="):
        target.advance(ms=1, ticks=1)
    with pytest.raises(ValueError, match="ticks must be a non-negative int"):
        target.advance(ticks=-1)
    with pytest.raises(TypeError, match="has no request_id field"):
        target.request(SetPoint(setpoint_c=1.0), RevisionResponse)
    with pytest.raises(TypeError, match="needs a message object|not a message class"):
        target.inject(42)
    with pytest.raises(LookupError, match="did not come from this target"):
        target.time_of(Heartbeat.zero())
    assert target.now_ns == 0  # none of that ran the sim


def test_stats_are_the_same_shape_everywhere(target):
    target.request(RevisionRequest(request_id=1), RevisionResponse, within=sil.ms(10))
    target.advance(ms=100)
    stats = target.stats()
    assert (stats.ticks, stats.sim_time_ns) == (10, 100_000_000)
    assert stats.published == {"RevisionRequest": 1, "RevisionResponse": 1, "Heartbeat": 1,
                               "PlantTemperature": 10, "HeaterCommand": 10}
    assert stats.received == {"RevisionRequest": 1}
    assert set(stats.drops) == {"too_short", "unknown_id", "wrong_size", "truncated"}
    assert stats.trace_count == 23


def test_records_carry_the_time_each_message_was_published(target):
    for _ in range(30):
        target.advance(ticks=1)
    records = target.records()
    assert all(record.sim_time_ns is not None for record in records)
    beats = [(record.sim_time_ns, Heartbeat.from_bytes(record.payload)) for record in records
             if record.msg_id == int(Heartbeat.ID)]
    assert [(time_ns, beat.sim_time_ns) for time_ns, beat in beats] == [(t, t) for t in (0, 100_000_000, 200_000_000)]
