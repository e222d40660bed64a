"""Fault injection (docs/faults.md) through sil.fault, the same on the
in-process target and on a launched sil-sim: each kind, each refusal by
name, seeded determinism, and a recorded faulted run with parameter changes
replayed byte for byte."""

import json
import subprocess

import pytest

import sil
from sil import FaultError, HeaterCommand, InprocTarget, PlantTemperature, ProcessTarget, SetPoint


def temperatures(target):
    return [reading.temperature_c for reading in target.history(PlantTemperature)]


def test_a_dropped_reading_reaches_no_service_and_not_the_harness(target):
    with target.fault.drop(PlantTemperature) as fault:
        target.advance(ticks=3)
        assert fault.affected == 3
    assert target.history(PlantTemperature) == []
    assert target.history(HeaterCommand) == [], "the thermostat decides only on a reading"
    assert target.fault.list() == [], "the block's end removed it"
    target.advance(ticks=1)
    assert len(target.history(PlantTemperature)) == 1


def test_field_overrides_set_offset_scale_and_seeded_noise(target):
    target.inject(SetPoint(setpoint_c=0.0))  # the heater stays off: 20.0 C, ambient, throughout
    target.advance(ticks=1)
    for settings, expected in [({"set": 55.0}, 55.0), ({"offset": 5.0}, 25.0), ({"scale": 1.5}, 30.0)]:
        with target.fault.field(PlantTemperature, "temperature_c", **settings):
            target.advance(ticks=1)
        assert temperatures(target)[-1] == expected, settings
    with target.fault.field(PlantTemperature, "temperature_c", noise=0.5, seed=3):
        target.advance(ticks=50)
    noisy = temperatures(target)[-50:]
    assert len(set(noisy)) == 50 and abs(sum(noisy) / 50 - 20.0) < 0.5


def test_delay_duplicate_rate_limit_and_freeze(target):
    with target.fault.delay(SetPoint, by=sil.ms(30)):
        target.inject(SetPoint(setpoint_c=0.0))
        target.advance(ticks=2)
        assert target.history(HeaterCommand)[-1].power_w == 2000.0, "the set point has not arrived yet"
        target.advance(ticks=2)
        assert target.history(HeaterCommand)[-1].power_w == 0.0, "30 ms later it has"
    start = len(target.history(HeaterCommand))
    with target.fault.duplicate(HeaterCommand):
        target.advance(ticks=3)
    assert len(target.history(HeaterCommand)) - start == 6
    start = len(target.history(PlantTemperature))
    with target.fault.rate_limit(PlantTemperature, every=sil.ms(50)):
        target.advance(ticks=20)
    assert len(target.history(PlantTemperature)) - start == 4
    target.inject(SetPoint(setpoint_c=90.0))
    target.advance(sil.s(1))
    frozen = target.fault.freeze(PlantTemperature, after=sil.ms(100), lasting=sil.s(1))
    target.advance(sil.s(3))
    readings = temperatures(target)[-300:]
    held = readings[10:110]
    assert len(set(held)) == 1 and held[0] == readings[9], "from its start it holds the value before it"
    assert readings[110] > held[0], "after its end the real reading is back"
    assert frozen.affected == 100


def test_a_fault_on_one_instance_takes_only_what_that_instance_publishes(target):
    target.fault.drop(HeaterCommand, instance="thermostat")
    from_the_plant = target.fault.drop(HeaterCommand, instance="plant")
    assert "drop HeaterCommand of thermostat" in target.journal[-2].text
    target.advance(ticks=3)
    assert target.history(HeaterCommand) == [], "the thermostat answers each reading; each answer is dropped"
    assert [info.affected for info in target.fault.list()] == [3, 0], "the plant publishes no command"
    assert [info.instance for info in target.fault.list()] == ["thermostat", "plant"]
    target.inject(HeaterCommand(power_w=123.0))
    target.advance(ticks=1)
    assert [command.power_w for command in target.history(HeaterCommand)] == [123.0], \
        "what the harness injects is no instance's: it passes"
    assert target.history(PlantTemperature)[-1].heater_power_w == 123.0, "and the plant heats with it"
    assert from_the_plant.affected == 0


@pytest.mark.parametrize("add, says", [
    (lambda f: f.drop(PlantTemperature, instance="lefty"),
     "drop on PlantTemperature: this system has no instance 'lefty' "
     "(instances: revision, heartbeat, plant, thermostat, monitor)"),
    (lambda f: f.field(PlantTemperature, "humidity", set=1.0),
     "field on PlantTemperature: PlantTemperature has no field 'humidity' (fields: temperature_c, heater_power_w)"),
    (lambda f: f.drop(PlantTemperature, p=1.5), "drop on PlantTemperature: p must be between 0 and 1"),
    (lambda f: f.drop(PlantTemperature, p=-0.1), "p must be between 0 and 1"),
    (lambda f: f.delay(PlantTemperature, by=sil.ns(0)), "a delay needs a duration > 0"),
    (lambda f: f.rate_limit(PlantTemperature, every=sil.ns(0)), "a rate limit needs an interval > 0"),
    (lambda f: f.field(PlantTemperature, "temperature_c", noise=-1.0), "noise is a standard deviation, >= 0"),
])
def test_a_fault_that_makes_no_sense_is_refused_when_asked_for(target, add, says):
    with pytest.raises(FaultError) as refused:
        add(target.fault)
    assert says in str(refused.value)
    assert target.fault.list() == []


def test_refused_here_before_the_sim_is_asked(target):
    with pytest.raises(TypeError, match="exactly one of set=, offset=, scale= or noise="):
        target.fault.field(PlantTemperature, "temperature_c", set=1.0, offset=2.0)
    with pytest.raises(LookupError, match="no message .NoSuchMessage."):
        target.fault.drop("NoSuchMessage")
    with pytest.raises(TypeError, match="instance= is a service instance's name, got 3"):
        target.fault.freeze(PlantTemperature, instance=3)
    assert set(target.fault.kinds()) == {"drop", "delay", "duplicate", "freeze", "field", "rate_limit"}
    assert target.fault.available


def test_unknown_fault_kind_and_text_field_are_refused_by_the_control_plane(sil_sim_path, tmp_path):
    with ProcessTarget(sil_sim_path, log_dir=tmp_path) as target:
        revision_response = int(sil.system_module().MsgId.RevisionResponse)
        for fields, says in [({"kind": "melt", "msg_id": revision_response}, "unknown kind 'melt'"),
                             ({"kind": "drop", "msg_id": 9999}, "no message with id 9999"),
                             ({"kind": "field", "msg_id": revision_response, "field": "git_revision", "op": "set"},
                              "RevisionResponse.git_revision is text, not a number"),
                             ({"kind": "field", "msg_id": revision_response, "field": "tick_rate_hz",
                               "op": "twist"}, "unknown op 'twist'")]:
            with pytest.raises(FaultError, match=says):
                target._fault_request("add_fault", fields)
        with pytest.raises(FaultError, match="no fault with id 42"):
            target._fault_request("remove_fault", {"id": 42})


def lossy_run(target):
    target.fault.drop(HeaterCommand, p=0.5, seed=11)
    target.inject(SetPoint(setpoint_c=45.0))
    target.expect(PlantTemperature, where=lambda reading: reading.temperature_c >= 44.5, within=sil.s(120))
    return target.stats().trace_digest, target.now_ns


def test_lossy_heater_commands_still_reach_the_set_point_and_repeat_exactly(sil_sim_path, tmp_path):
    runs = []
    for _ in range(2):
        with InprocTarget() as target:
            runs.append(lossy_run(target))
    with ProcessTarget(sil_sim_path, log_dir=tmp_path) as target:
        runs.append(lossy_run(target))
    assert runs[0] == runs[1] == runs[2]
    with InprocTarget() as target:
        target.inject(SetPoint(setpoint_c=45.0))
        unfaulted = target.expect(PlantTemperature, where=lambda reading: reading.temperature_c >= 44.5,
                                  within=sil.s(120))
        assert target.time_of(unfaulted) < runs[0][1], "half the commands lost: it gets there later"


def test_a_recorded_faulted_run_with_parameter_changes_replays_byte_for_byte(sil_sim_path, tmp_path):
    path = tmp_path / "faulted.silrec"
    with ProcessTarget(sil_sim_path, log_dir=tmp_path, extra_args=["--record", str(path)]) as target:
        noise = target.fault.field(PlantTemperature, "temperature_c", noise=0.5, seed=5)
        target.fault.drop(HeaterCommand, p=0.3, seed=2, after=sil.s(1), lasting=sil.s(3))
        target.fault.field(HeaterCommand, "power_w", scale=0.5, instance="thermostat")
        target.inject(HeaterCommand(power_w=1000.0))  # not the thermostat's: a replay that lost the instance differs
        target.inject(SetPoint(setpoint_c=40.0))
        target.advance(sil.s(2))
        target.params["thermostat.hysteresis_c"] = 2.0
        target.fault.delay(SetPoint, by=sil.ms(250))
        target.inject(SetPoint(setpoint_c=35.0))
        target.advance(sil.s(3))
        noise.remove()
        target.advance(sil.s(2))
    result = subprocess.run([str(sil_sim_path), "--replay", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert summary["identical"] and summary["injected"] == 3


def test_a_delayed_injection_released_with_a_delayed_reading_replays_in_the_same_order(sil_sim_path, tmp_path):
    """A set point delayed 5 ms and readings delayed 15 ms fall due at the same
    tick boundary: the reading of the tick before was published first, but
    what the harness sent comes first at a boundary, live as in replay (which
    delivers recorded injections before the boundary's delayed service
    messages). The thermostat's answer to that reading shows the order."""
    path = tmp_path / "order.silrec"
    with ProcessTarget(sil_sim_path, log_dir=tmp_path, extra_args=["--record", str(path)]) as target:
        target.advance(ticks=3)
        target.fault.delay(PlantTemperature, by=sil.ms(15))
        target.fault.delay(SetPoint, by=sil.ms(5))
        target.advance(ticks=2)
        target.inject(SetPoint(setpoint_c=0.0))
        target.advance(ticks=5)
        commands = [command.power_w for command in target.history(HeaterCommand)]
    assert commands == [2000.0] * 4 + [0.0] * 4, \
        "the reading released with the set point (the fifth) is answered under the new set point"
    result = subprocess.run([str(sil_sim_path), "--replay", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert summary["identical"] and summary["injected"] == 1
