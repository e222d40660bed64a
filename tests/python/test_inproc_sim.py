"""A system module's InprocSim, the in-process simulation the inproc target drives:
what it records, how it validates what Python hands it."""

import pytest

import sil
from sil import Heartbeat, HeaterCommand, MsgId, PlantTemperature, RevisionRequest, RevisionResponse, SetPoint
from sil import InprocSim  # the system module in use ($SIL_MODULE: the thermal example)


def test_starts_at_tick_zero_and_counts_ticks():
    sim = InprocSim(250)
    assert (sim.rate_hz, sim.tick, sim.now_ns, sim.period_ns) == (250, 0, 0, 4_000_000)
    assert sim.advance(3) == 3
    assert (sim.tick, sim.now_ns) == (3, 12_000_000)
    assert sim.ticks_for(1) == 1 and sim.ticks_for(4_000_000) == 1 and sim.ticks_for(4_000_001) == 2


@pytest.mark.parametrize("rate", [0, 100_001, -1])
def test_rate_out_of_range_is_refused(rate):
    with pytest.raises(ValueError, match="rate_hz must be 1 to 100000|between 0 and 2\\*\\*64-1"):
        InprocSim(rate)


def test_records_every_publication_in_bus_order_with_its_time():
    sim = InprocSim()
    sim.inject(RevisionRequest(request_id=4))
    sim.advance(2)
    records = sim.records()
    names = [(time_ns, MsgId(msg_id).name, injected) for time_ns, msg_id, _payload, injected in records]
    assert names == [
        (0, "RevisionResponse", False), (0, "RevisionRequest", True),  # depth-first: the answer lands first
        (0, "Heartbeat", False), (0, "HeaterCommand", False), (0, "PlantTemperature", False),
        (10_000_000, "HeaterCommand", False), (10_000_000, "PlantTemperature", False),
    ]
    assert RevisionResponse.from_bytes(records[0][2]).request_id == 4
    assert sim.record_count == len(records)
    assert sim.records(5) == records[5:]
    assert sim.records(100) == []


def test_advance_until_stops_at_the_end_of_the_matching_tick():
    sim = InprocSim()
    ticks_run, matched, payload, at_ns = sim.advance_until(MsgId.Heartbeat, "sequence", 2, limit_ns=10**9)
    assert (ticks_run, matched, at_ns) == (21, True, 200_000_000)
    assert Heartbeat.from_bytes(payload).sequence == 2
    assert sim.tick == 21


def test_advance_until_gives_up_at_the_limit():
    sim = InprocSim()
    assert sim.advance_until(int(MsgId.OverTemperatureFault), ticks=7) == (7, False, None, None)
    assert sim.advance_until(int(MsgId.OverTemperatureFault), limit_ns=15_000_000) == (2, False, None, None)
    assert sim.tick == 9


def test_advance_until_matches_floats_and_not_what_was_published_before_it():
    sim = InprocSim()
    sim.inject(SetPoint(setpoint_c=0.0))
    assert sim.advance_until(MsgId.HeaterCommand, "power_w", 0.0, ticks=1)[1]
    sim.inject(RevisionRequest(request_id=1))
    revision = RevisionResponse.from_bytes(sim.records()[-2][2]).git_revision
    sim.inject(RevisionRequest(request_id=2))
    # Published at the boundary, before the watch was armed: not a match.
    assert not sim.advance_until(MsgId.RevisionResponse, "git_revision", revision, ticks=1)[1]


@pytest.mark.parametrize("args, kwargs, error, message", [
    ((5,), {"ticks": 1}, ValueError, "no message has id 5"),
    ((70000,), {"ticks": 1}, ValueError, "not a MsgId"),
    ((MsgId.Heartbeat, "nope", 1), {"ticks": 1}, ValueError, "Heartbeat has no field 'nope'"),
    ((MsgId.Heartbeat, "sequence", 1.5), {"ticks": 1}, ValueError, "compare it with an integer"),
    ((MsgId.HeaterCommand, "power_w", 1), {"ticks": 1}, ValueError, "compare it with a float"),
    ((MsgId.Heartbeat, "sequence", True), {"ticks": 1}, TypeError, "got bool"),
    ((MsgId.Heartbeat, "sequence", 2**64), {"ticks": 1}, OverflowError, "int64"),
    ((MsgId.Heartbeat, "sequence"), {"ticks": 1}, TypeError, "give both or neither"),
    ((MsgId.Heartbeat, 3, 1), {"ticks": 1}, TypeError, "field must be a str"),
    ((MsgId.Heartbeat,), {}, TypeError, "exactly one of limit_ns= and ticks="),
    ((MsgId.Heartbeat,), {"ticks": 1, "limit_ns": 1}, TypeError, "exactly one of limit_ns= and ticks="),
    ((MsgId.Heartbeat,), {"ticks": -1}, ValueError, "between 0 and 2\\*\\*64-1"),
    ((MsgId.Heartbeat, "sequence", [1]), {"ticks": 1}, TypeError, "int, a float or a str, got list"),
])
def test_advance_until_refuses_bad_arguments_without_running(args, kwargs, error, message):
    sim = InprocSim()
    with pytest.raises(error, match=message):
        sim.advance_until(*args, **kwargs)
    assert sim.tick == 0


def test_inject_takes_message_objects_only():
    sim = InprocSim()
    with pytest.raises(TypeError, match="inject\\(\\) needs a message object .*got int"):
        sim.inject(3)
    with pytest.raises(TypeError, match="must be an int, got str"):
        sim.advance("3")
    assert sim.record_count == 0


def test_inject_datagram_validates_like_the_sim():
    sim = InprocSim()
    assert sim.inject_datagram(sil.encode(HeaterCommand(power_w=5.0))) == "accepted"
    assert sim.inject_datagram(b"") == "too_short"
    assert sim.inject_datagram(b"\xff\xfe\x00") == "unknown_id"
    assert sim.inject_datagram(b"\x36\x08\x00") == "wrong_size"
    assert sim.inject_datagram(b"\x36\x08" + bytes(sil.MAX_DATAGRAM_SIZE)) == "truncated"
    assert sim.inject_datagram(bytearray(b"\x36\x08" + bytes(8))) == "accepted"
    with pytest.raises(TypeError, match="needs a bytes-like object"):
        sim.inject_datagram("text")
    with pytest.raises(ValueError, match="0xFFF0 is a control-plane request"):
        sim.inject_datagram(b"\xf0\xff\x08\x01")
    stats = sim.stats()
    assert stats["drops"] == {"too_short": 1, "unknown_id": 1, "wrong_size": 1, "truncated": 1}
    assert stats["accepted"] == 2
    assert stats["received"]["HeaterCommand"] == 2
    assert [injected for *_rest, injected in sim.records()] == [True, True]


def test_stats_count_publications_and_fold_them_into_the_digest():
    sim = InprocSim()
    empty = sim.stats()
    assert empty["trace_count"] == 0 and empty["ticks"] == 0
    sim.advance(10)
    stats = sim.stats()
    assert stats["published"]["PlantTemperature"] == 10
    assert stats["published"]["Heartbeat"] == 1
    assert stats["trace_count"] == sim.record_count == 21
    assert stats["trace_digest"] != empty["trace_digest"]
    assert stats["sim_time_ns"] == 100_000_000


def test_build_info_matches_what_the_revision_service_answers():
    sim = InprocSim()
    sim.inject(RevisionRequest(request_id=1))
    response = RevisionResponse.from_bytes(sim.records()[0][2])
    build = sil.build_info()
    assert response.git_revision == build["git_revision"]
    assert response.build_time_unix == build["build_time_unix"]
    assert f"{response.version_major}.{response.version_minor}.{response.version_patch}" == build["version"]
    assert bool(response.build_flags & 1) == build["dirty_tree"]


def test_catalogue_info_describes_every_message_class():
    info = sil.catalogue_info()
    assert [name for _id, name, _size, _fields in info] == [cls.__name__ for cls in sil.message_types()]
    for (msg_id, _name, size, fields), cls in zip(info, sil.message_types()):
        assert (msg_id, size) == (int(cls.ID), cls.SIZE)
        assert [field[:4] for field in fields] == cls.fields()
        assert all(count == (size_ if kind == "text" else 1) for _n, kind, _o, size_, count in fields)


def test_plant_temperature_is_published_every_tick():
    sim = InprocSim(1000)
    sim.advance(1000)
    assert sim.stats()["published"]["PlantTemperature"] == 1000
    first = PlantTemperature.from_bytes(sim.records()[2][2])
    assert first.temperature_c == 20.0
