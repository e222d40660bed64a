"""Failure artefacts: a failing test's report shows, on every target, what
the test did, a window of simulated time before the failure, the last value
of every message type, the sim's stats and the files written for it (the
decoded history, a plot of the window); a launched sim also records into
the test's tmp_path. A passing test leaves nothing behind."""

import re
from pathlib import Path

import pytest

import sil.recording
from sil import SimProcess

pytest_plugins = ["pytester"]

FAILING = """
    from sil import OverTemperatureFault, SetPoint

    def test_fails(sil):
        sil.advance(ms=50)
        sil.inject(SetPoint(setpoint_c=70.0))
        sil.expect(OverTemperatureFault, within=sil.ms(30))
"""

# What a test does to the sim, then a failure 2.53 s in.
ACTING = """
    from sil import OverTemperatureFault, PlantTemperature, SetPoint

    def test_fails(sil):
        sil.params["thermostat.hysteresis_c"] = 0.8
        sil.advance(ms=500)
        sil.fault.field(PlantTemperature, "temperature_c", offset=5.0)
        sil.inject(SetPoint(setpoint_c=70.0))
        sil.advance(sil.s(2))
        sil.inject(SetPoint(setpoint_c=float("nan")))  # the thermostat rejects it, and counts that
        sil.advance(sil.ms(10))
        sil.expect(OverTemperatureFault, within=sil.ms(20))
"""

PASSING = """
    from sil import Heartbeat

    def test_passes(sil):
        sil.expect(Heartbeat, where={"sequence": 1}, within=sil.s(1))
"""


@pytest.fixture
def run(pytester, sil_sim_path):
    def run(source, *args):
        pytester.makepyfile(source)
        basetemp = pytester.path / "basetemp"
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--sil-sim", str(sil_sim_path),
                                               f"--basetemp={basetemp}", *args)
        return result, basetemp
    return run


def section(output: str) -> str:
    match = re.search(r"-+ sil artefacts -+\n(.*?)(?:\n-+ |\n=+ )", output, re.S)
    assert match, f"no sil artefacts section in:\n{output}"
    return match.group(1)


def artefact_files(basetemp: Path) -> list[Path]:
    return sorted(p for p in basetemp.rglob("*") if p.suffix in (".silrec", ".stderr", ".txt", ".png"))


def listed(text: str, heading: str) -> list[str]:
    """The indented lines under the line starting with heading."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    shown = []
    for line in lines[start + 1:]:
        if not line.startswith("  "):
            break
        shown.append(line.strip())
    return shown


@pytest.fixture(params=["inproc", "process", "udp"])
def target_args(request, sil_sim_path, tmp_path):
    """--sil-target for each kind; udp:// attaches to a step-clock sim started here."""
    if request.param != "udp":
        yield [f"--sil-target={request.param}"]
        return
    with SimProcess(sil_sim_path, ["--port", "0", "--clock", "step"], log_dir=tmp_path) as sim:
        yield [f"--sil-target=udp://127.0.0.1:{sim.port}"]


def test_every_target_reports_what_the_test_did_a_window_the_last_values_and_files(run, target_args):
    result, basetemp = run(ACTING, "--sil-report-window", "1", *target_args)
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    text = section(output)

    did = listed(text, "what the test did (4):")
    assert len(did) == 4
    assert did[0].split()[:3] == ["0.000000000", "s", "parameter"] and "thermostat.hysteresis_c = 0.8" in did[0]
    assert did[1].split()[:3] == ["0.500000000", "s", "fault"]
    assert "added fault #1: field PlantTemperature temperature_c offset 5.0" in did[1]
    assert did[2].split()[:4] == ["0.500000000", "s", "injected", "SetPoint"] and "setpoint_c=70.0" in did[2]
    assert did[3].split()[:4] == ["2.500000000", "s", "injected", "SetPoint"] and "setpoint_c=nan" in did[3]

    # The window: the last simulated second before the failure at 2.53 s.
    assert re.search(r"^the last 1 s \(1\.530000000 s to 2\.530000000 s\)", text, re.M)
    window = listed(text, "the last 1 s")
    times = [float(line.split()[0].lstrip("<=")) for line in window if line[0] in "0123456789<"]
    assert times and min(times) >= 1.53 and max(times) <= 2.53
    assert any("PlantTemperature" in line for line in window)
    # A message identical to the one before of its type is counted, not repeated.
    assert window[-1].startswith("unchanged and not shown:") and "Heartbeat" not in window[-1]

    last = listed(text, "last value of each message type")
    assert {line.split()[3] for line in last} >= {"PlantTemperature", "HeaterCommand", "Heartbeat"}
    temperature = next(line for line in last if line.split()[3] == "PlantTemperature")
    assert "temperature_c=" in temperature

    # The files: every message decoded, and a plot of the window.
    history = Path(re.search(r"^history: (\S+) ", text, re.M).group(1))
    assert history.is_relative_to(basetemp)
    lines = history.read_text().splitlines()
    assert sum("published" in line and "PlantTemperature" in line for line in lines) >= 200  # 2.5 s at 100 Hz
    assert sum(" injected " in line for line in lines) == 2
    plot = Path(re.search(r"^plot:    (\S+) ", text, re.M).group(1))
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    assert re.search(r'^sim stats: \{"', text, re.M)
    # What the services count (docs/counters.md) is in the stats on every target.
    assert '"counters": {"thermostat.rejected_set_points": 1}' in text
    assert output.count('"event": "stopped"') <= 1  # once, in the stats, not again in the stderr section


def test_a_process_target_also_gives_its_recording_and_log(run):
    result, basetemp = run(FAILING)
    result.assert_outcomes(failed=1)
    text = section(result.stdout.str())
    recording = Path(re.search(r"^recording: (\S+)$", text, re.M).group(1))
    log = Path(re.search(r"^sim log:   (\S+)$", text, re.M).group(1))
    assert recording.name == "sil.silrec" and recording.parent == log.parent
    assert recording.is_relative_to(basetemp) and log.is_relative_to(basetemp)
    assert "listening on 127.0.0.1" in log.read_text()
    assert re.search(r'^sim stats: \{"event": "stopped", "ticks": 8,', text, re.M)
    # 8 ticks: PlantTemperature and HeaterCommand each tick, Heartbeat at 0, the injected SetPoint.
    assert "18 messages on the bus" in text
    # The files stay for the engineer, and the recording is complete.
    with sil.recording.open(recording) as rec:
        assert rec.footer is not None and rec.footer.dropped == 0
        assert sum(1 for m in rec.messages(directions=["published", "injected"])) == 18


def test_the_number_of_lines_shown_is_an_option(run):
    result, _ = run(ACTING, "--sil-artefact-messages", "3", "--sil-target=inproc")
    result.assert_outcomes(failed=1)
    window = listed(section(result.stdout.str()), "the last ")
    assert window[0].startswith("(") and "earlier lines left out" in window[0]
    assert len(window) == 4


def test_a_passing_test_leaves_no_files(run):
    result, basetemp = run(PASSING)
    result.assert_outcomes(passed=1)
    assert basetemp.is_dir()
    assert artefact_files(basetemp) == []
    assert "sil artefacts" not in result.stdout.str()


def test_keep_artefacts_keeps_a_passing_tests_files(run):
    result, basetemp = run(PASSING, "--sil-keep-artefacts")
    result.assert_outcomes(passed=1)
    files = artefact_files(basetemp)
    assert sorted(p.suffix for p in files) == [".silrec", ".stderr"]
    recording = next(p for p in files if p.suffix == ".silrec")
    with sil.recording.open(recording) as rec:
        assert [m.value.sequence for m in rec.messages("Heartbeat")] == [0, 1]


def test_the_sim_fixture_records_too(run):
    result, basetemp = run("""
        import time

        def test_fails(sim, sil_client):
            sil_client.revision()
            assert False, "scenario failed"
    """)
    result.assert_outcomes(failed=1)
    text = section(result.stdout.str())
    assert re.search(r"^recording: \S+/sim\.silrec$", text, re.M)
    assert "RevisionRequest" in text and "injected" in text and "RevisionResponse" in text


def test_no_record_option_launches_sims_without_recording(run):
    result, basetemp = run(FAILING, "--sil-no-record")
    result.assert_outcomes(failed=1)
    text = section(result.stdout.str())
    assert "recording: (not recorded)" in text and "messages on the bus" not in text
    assert sorted(p.suffix for p in artefact_files(basetemp)) == [".png", ".stderr", ".txt"]


def test_a_killed_sims_recording_is_shown_up_to_where_it_was_cut(run):
    result, _ = run("""
        import signal
        from sil import Heartbeat

        def test_killed(sil):
            sil.advance(ms=200)
            sil.process.send_signal(signal.SIGKILL)
            sil.process.wait(timeout=5)
            assert False, "after the kill"
    """)
    result.assert_outcomes(failed=1, errors=1)
    text = section(result.stdout.str())
    assert "sim stats: (the sim did not stop cleanly)" in text
    # Whatever reached the disk before the kill (the writer flushes at least every 50 ms).
    assert re.search(r"^\d+ messages on the bus", text, re.M)
    assert "no footer" in text or "is incomplete" in text


def test_a_bad_message_count_is_a_usage_error(run):
    result, _ = run("def test_nothing(): pass", "--sil-artefact-messages=-1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--sil-artefact-messages must be 0 or more" in result.stderr.str()


def test_a_bad_report_window_is_a_usage_error(run):
    result, _ = run("def test_nothing(): pass", "--sil-report-window=0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--sil-report-window must be a positive number" in result.stderr.str()


def test_the_window_plot_holds_a_sparse_value_and_groups_fields_by_unit():
    from sil import PlantTemperature, SetPoint, failure_report
    from sil.targets import InprocTarget

    with InprocTarget(100) as target:
        target.inject(SetPoint(setpoint_c=55.0))
        target.advance(target.s(3))
        target.fault.field(PlantTemperature, "temperature_c", set=99.0)
        target.advance(target.ms(500))
        start_ns, end_ns = 2 * 10**9, target.now_ns
        target._sync(None)
        timeline = failure_report._timeline(target, failure_report._received(target))
        data = failure_report.plot_data(timeline, start_ns, end_ns)
    panels = {panel.ylabel: [s.spec for s in panel.series] for panel in data.panels}
    assert panels == {"W": ["HeaterCommand.power_w", "PlantTemperature.heater_power_w"],
                      "°C": ["PlantTemperature.temperature_c", "SetPoint.setpoint_c"]}
    series = {s.spec: s for panel in data.panels for s in panel.series}
    assert "Heartbeat.sequence" not in series  # sil's own messages are not signals
    # Injected at 0 s, before the window: held across all of it.
    assert series["SetPoint.setpoint_c"].times_s == (2.0, 3.5) and series["SetPoint.setpoint_c"].values == (55.0, 55.0)
    temperature = series["PlantTemperature.temperature_c"]
    assert temperature.times_s[0] == 2.0 and temperature.times_s[-1] == 3.5
    assert temperature.values[-1] == 99.0 and all(v != 99.0 for t, v in zip(temperature.times_s, temperature.values)
                                                  if t < 3.0)
    assert [(m.time_s, m.kind) for m in data.markers] == [(3.0, "control")]


def test_the_plot_leaves_out_exactly_sils_own_messages():
    import subprocess
    import sys

    from sil import failure_report

    # In a process of its own: sil._core beside a system's module breaks the recording reader's protobuf registry.
    code = "import sil._core as c; print(' '.join(t.NAME for t in c.message_types()))"
    names = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           timeout=60).stdout.split()
    assert set(names) == failure_report.FRAMEWORK_MESSAGES


def test_the_journal_costs_an_inject_no_round_trip_on_a_free_running_sim(sil_sim_path, tmp_path):
    # now_ns asks a realtime sim (GetStats); the journal takes the time the
    # target already knows instead.
    from sil import SetPoint
    from sil.targets import NetworkTarget

    with SimProcess(sil_sim_path, ["--port", "0"], log_dir=tmp_path) as sim, \
            NetworkTarget("127.0.0.1", sim.port) as target:
        asked = []
        control = target._control
        target._control = lambda command, *args, **kwargs: asked.append(command) or control(command, *args, **kwargs)
        target.inject(SetPoint(setpoint_c=40.0))
        assert asked == []
        assert [(entry.kind, entry.time_ns) for entry in target.journal] == [("injected", target._now)]
