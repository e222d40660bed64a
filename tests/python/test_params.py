"""Parameters (docs/parameters.md) through sil.params, the same on the
in-process target and on a launched sil-sim: reading, setting, every rule
refused by name with nothing changed, values before start, restore, the
command line, and a recorded run with changes replayed identically."""

import json
import subprocess

import pytest

import sil
from sil import HeaterCommand, InprocTarget, ParamError, PlantTemperature, ProcessTarget, SetPoint
from sil import recording as silrec


@pytest.fixture(params=["inproc", "process"])
def make_target(request, tmp_path):
    made = []

    def make(**params):
        if request.param == "inproc":
            target = InprocTarget(params=params or None)
        else:
            target = ProcessTarget(request.getfixturevalue("sil_sim_path"), log_dir=tmp_path, params=params or None)
        made.append(target)
        return target

    yield make
    for target in made:
        status = target.close()
        if request.param == "process":
            assert status == 0


def test_reads_like_a_mapping_with_the_declarations_in_table(make_target):
    target = make_target()
    params = target.params
    assert params["thermostat.hysteresis_c"] == 0.5
    assert params.get("monitor.persistence_ns") == 2_000_000_000
    assert params.get("monitor.nope", "absent") == "absent"
    assert "plant.ambient_c" in params and "ambient_c" not in params
    assert len(params) == len(list(params)) == 10
    rows = {row.name: row for row in params.table()}
    hysteresis = rows["thermostat.hysteresis_c"]
    assert (hysteresis.type, hysteresis.min, hysteresis.max, hysteresis.unit, hysteresis.value) == \
        ("f64", 0.0, 50.0, "C", 0.5)
    assert rows["thermostat.start_setpoint_c"].restart
    assert rows["monitor.persistence_ns"].type == "u64"
    with pytest.raises(KeyError, match="monitor.nope"):
        params["monitor.nope"]


def test_a_change_acts_from_the_next_tick(make_target):
    target = make_target()
    target.advance(ticks=1)
    assert target.history(HeaterCommand)[-1].power_w == 2000.0
    target.params["thermostat.heater_on_power_w"] = 750.0
    assert target.params["thermostat.heater_on_power_w"] == 750.0
    assert target.history(HeaterCommand)[-1].power_w == 2000.0, "nothing runs until time moves"
    target.advance(ticks=1)
    assert target.history(HeaterCommand)[-1].power_w == 750.0


@pytest.mark.parametrize("values, says", [
    ({"thermostat.gain": 1.0}, "thermostat.gain: no such parameter"),
    ({"thermostat.hysteresis_c": 51.0}, "thermostat.hysteresis_c: 51 is outside its range 0..50 C"),
    ({"thermostat.hysteresis_c": float("nan")}, "thermostat.hysteresis_c: nan is outside its range"),
    ({"thermostat.hysteresis_c": True}, "thermostat.hysteresis_c is an f64 (a number); got a bool true"),
    ({"monitor.persistence_ns": 0.5}, "monitor.persistence_ns is a u64 (an integer); got a float 0.5"),
    ({"monitor.persistence_ns": -1}, "monitor.persistence_ns: -1 is outside its range 0..600000000000 ns"),
    ({"thermostat.start_setpoint_c": 40.0}, "thermostat.start_setpoint_c: takes effect at restart"),
])
def test_each_bad_change_is_refused_by_name_and_nothing_changes(make_target, values, says):
    target = make_target()
    with pytest.raises(ParamError, match=f"^set_params: nothing changed: {says}".replace(".", r"\.")
                       .replace("(", r"\(").replace(")", r"\)")):
        target.params.set({"plant.ambient_c": 30.0, **values})
    assert target.params["plant.ambient_c"] == 20.0
    assert target.params.changed() == {}
    target.advance(ticks=1)  # the sim goes on
    assert target.history(PlantTemperature)[-1].temperature_c == 20.0


def test_values_that_are_not_values_are_refused_here(make_target):
    target = make_target()
    with pytest.raises(TypeError, match="bool, an int or a float, got str"):
        target.params["plant.ambient_c"] = "25"
    with pytest.raises(TypeError, match="non-empty"):
        target.params.set({})
    with pytest.raises(TypeError, match="cannot be deleted"):
        del target.params["plant.ambient_c"]


def test_values_before_start_reach_the_services_constructors(make_target):
    target = make_target(**{"plant.ambient_c": 31.0, "thermostat.start_setpoint_c": 25.0})
    assert target.params["thermostat.start_setpoint_c"] == 25.0
    target.advance(ticks=1)
    reading = target.history(PlantTemperature)[0]
    assert reading.temperature_c == 31.0, "the plant starts at its ambient"
    assert target.history(HeaterCommand)[0].power_w == 0.0, "31 C is above a 25 C set point: off"


def test_restore_puts_back_what_the_test_changed(make_target):
    target = make_target()
    target.params["thermostat.hysteresis_c"] = 2.0
    target.params.set({"thermostat.hysteresis_c": 3.0, "monitor.threshold_c": 90.0})
    assert target.params.changed() == {"thermostat.hysteresis_c": 0.5, "monitor.threshold_c": 80.0}
    assert target.params.restore() == {"thermostat.hysteresis_c": 0.5, "monitor.threshold_c": 80.0}
    assert target.params["thermostat.hysteresis_c"] == 0.5 and target.params["monitor.threshold_c"] == 80.0
    assert target.params.restore() is None


def test_a_bad_value_before_start_is_refused(sil_sim_path, tmp_path):
    with pytest.raises(ParamError, match="monitor.threshold_c: 1000 is outside its range"):
        InprocTarget(params={"monitor.threshold_c": 1000.0})
    for args, says in [
        (["--param", "monitor.threshold_c=1000"], "--param: monitor.threshold_c: 1000 is outside its range"),
        (["--param", "monitor.threshold_c=hot"], "--param: monitor.threshold_c: 'hot' is not a number"),
        (["--param", "monitor.nope=1"], "--param: monitor.nope: no such parameter"),
        (["--param", "threshold"], "--param: 'threshold' is not NAME=VALUE"),
        (["--params", str(tmp_path / "missing.txt")], "cannot open"),
    ]:
        result = subprocess.run([str(sil_sim_path), "--port", "0", *args], capture_output=True, text=True, timeout=30)
        assert result.returncode == 2, (args, result.stderr)
        assert says in result.stderr, result.stderr
    bad = tmp_path / "bad.params"
    bad.write_text("# tuned\nmonitor.threshold_c = 85\n\nthermostat.hysteresis_c = lots\n")
    result = subprocess.run([str(sil_sim_path), "--port", "0", "--params", str(bad)], capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 2
    assert f"--params {bad}:4: thermostat.hysteresis_c: 'lots' is not a number" in result.stderr


def test_a_params_file_and_later_flags_win(sil_sim_path, tmp_path):
    values = tmp_path / "rig.params"
    values.write_text("# tuned on the rig\nmonitor.threshold_c = 85\nthermostat.hysteresis_c=1.5\n")
    with ProcessTarget(sil_sim_path, log_dir=tmp_path,
                       extra_args=["--params", str(values), "--param", "thermostat.hysteresis_c=2.5"]) as target:
        assert target.params["monitor.threshold_c"] == 85.0
        assert target.params["thermostat.hysteresis_c"] == 2.5


def test_a_recorded_run_with_changes_replays_identically(sil_sim_path, tmp_path):
    path = tmp_path / "run.silrec"
    with ProcessTarget(sil_sim_path, log_dir=tmp_path, params={"thermostat.start_setpoint_c": 30.0},
                       extra_args=["--record", str(path)]) as target:
        target.advance(sil.s(5))
        target.params["thermostat.hysteresis_c"] = 4.0
        target.inject(SetPoint(setpoint_c=45.0))
        target.params.set({"plant.loss_w_per_k": 20.0, "thermostat.heater_on_power_w": 1500.0})
        target.advance(sil.s(5))
        with pytest.raises(ParamError):
            target.params["plant.loss_w_per_k"] = -1.0  # refused: recorded, and refused again in the replay
        target.advance(sil.s(5))
        changed = [h.power_w for h in target.history(HeaterCommand)]
    assert 1500.0 in changed
    header = silrec.open(path).header
    assert header.start_params == {"thermostat.start_setpoint_c": 30.0}
    assert [p.name for p in header.catalogue.params][:2] == ["plant.heat_capacity_j_per_k", "plant.loss_w_per_k"]
    result = subprocess.run([str(sil_sim_path), "--replay", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    # 1500 W commands are in the recorded trace: a replay without the changes would diverge there.
    assert summary["identical"] and summary["injected"] == 1 and summary["messages"] > 1000
