"""The HIL rig example over --sil-target=udp://HOST:PORT: the controller runs
on the rig's own loop in wall time, the plant is the stand-in driver's. Every
budget below is wall time at the rig's 1x speed."""

from sil import HeaterCommand, PlantTemperature, RevisionRequest, RevisionResponse, SetPoint

HEATER_ON_W = 2000.0  # thermal::Thermostat::kHeaterOnPowerW


def test_the_rig_answers_which_build_it_runs(sil):
    response = sil.request(RevisionRequest(request_id=7), RevisionResponse, within=sil.ms(500))
    assert response.request_id == 7
    assert response.tick_rate_hz == sil.rate_hz
    assert sil.clock == "realtime"


def test_the_drivers_readings_reach_the_harness(sil):
    readings = [sil.expect(PlantTemperature, within=sil.ms(500)) for _ in range(3)]
    for reading in readings:
        assert 0.0 < reading.temperature_c < 250.0, reading


def test_a_set_point_above_the_temperature_turns_the_heater_on(sil):
    sil.inject(SetPoint(setpoint_c=240.0))
    sil.expect(HeaterCommand, where={"power_w": HEATER_ON_W}, within=sil.ms(500))


def test_a_set_point_below_the_temperature_turns_the_heater_off(sil):
    sil.inject(SetPoint(setpoint_c=-100.0))
    sil.expect(HeaterCommand, where={"power_w": 0.0}, within=sil.ms(500))


def test_the_plant_cools_once_the_driver_has_turned_the_heater_off(sil):
    # Heat a little first, so the plant is above ambient whatever ran before.
    sil.inject(SetPoint(setpoint_c=240.0))
    sil.expect(PlantTemperature, where=lambda r: r.heater_power_w == HEATER_ON_W and r.temperature_c > 20.1,
               within=sil.s(2))
    sil.inject(SetPoint(setpoint_c=-100.0))
    # The driver applies the command at its next period; from then on it cools.
    off = sil.expect(PlantTemperature, where={"heater_power_w": 0.0}, within=sil.ms(500))
    sil.expect(PlantTemperature, where=lambda r: r.temperature_c < off.temperature_c, within=sil.s(2))


def test_a_parameter_changed_on_the_rig_acts_and_is_restored_after_the_test(sil):
    """Parameters and faults work on a rig as on a sim (docs/parameters.md,
    docs/faults.md): the rig's loop answers them between its ticks."""
    assert sil.params["thermostat.heater_on_power_w"] == HEATER_ON_W
    sil.params["thermostat.heater_on_power_w"] = 1200.0
    sil.inject(SetPoint(setpoint_c=240.0))
    sil.expect(HeaterCommand, where={"power_w": 1200.0}, within=sil.ms(500))


def test_the_rig_has_the_default_again_and_a_dropped_command_never_arrives(sil):
    """The fault is on what the thermostat instance publishes: the rig's loop
    tells the fault stage who publishes as a sim does."""
    assert sil.params["thermostat.heater_on_power_w"] == HEATER_ON_W
    with sil.fault.drop(HeaterCommand, instance="thermostat") as dropped:
        sil.inject(SetPoint(setpoint_c=240.0))
        sil.expect(PlantTemperature, within=sil.ms(500))  # what was in flight when it was added is in by now
        before = len(sil.history(HeaterCommand))
        sil.expect(PlantTemperature, within=sil.ms(500))
        sil.expect(PlantTemperature, within=sil.ms(500))
        assert len(sil.history(HeaterCommand)) == before
        assert dropped.affected > 0
