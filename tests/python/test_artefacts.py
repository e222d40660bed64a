"""Failure artefacts: a launched sim records into the test's tmp_path; a
failing test's report shows the recording, the log, the sim's counters and
the last messages; a passing test leaves nothing behind."""

import re
from pathlib import Path

import pytest

import sil.recording

pytest_plugins = ["pytester"]

FAILING = """
    from sil import OverTemperatureFault, SetPoint

    def test_fails(sil):
        sil.advance(ms=50)
        sil.inject(SetPoint(setpoint_c=70.0))
        sil.expect(OverTemperatureFault, within=sil.ms(30))
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
    return sorted(p for p in basetemp.rglob("*") if p.suffix in (".silrec", ".stderr"))


def test_a_failing_scenario_shows_its_recording_log_stats_and_last_messages(run):
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
    lines = text.splitlines()
    heading = lines.index("last 18 of 18 messages on the bus:")
    shown = lines[heading + 1:heading + 21]
    assert len(shown) == 18
    assert shown[0].split()[:4] == ["0.000000000", "s", "published", "Heartbeat"]
    injected = [line for line in shown if "injected" in line]
    assert len(injected) == 1 and "SetPoint" in injected[0] and "setpoint_c=70.0" in injected[0]
    assert shown[-1].split()[:4] == ["0.070000000", "s", "published", "PlantTemperature"]
    # The files stay for the engineer, and the recording is complete.
    with sil.recording.open(recording) as rec:
        assert rec.footer is not None and rec.footer.dropped == 0
        assert sum(1 for m in rec.messages(directions=["published", "injected"])) == 18


def test_the_number_of_messages_shown_is_an_option(run):
    result, _ = run(FAILING, "--sil-artefact-messages", "3")
    result.assert_outcomes(failed=1)
    text = section(result.stdout.str())
    lines = text.splitlines()
    heading = lines.index("last 3 of 18 messages on the bus:")
    assert [line.split()[3] for line in lines[heading + 1:heading + 4]] == ["PlantTemperature", "HeaterCommand",
                                                                            "PlantTemperature"]


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
    assert [p.suffix for p in files] == [".stderr", ".silrec"] or [p.suffix for p in files] == [".silrec", ".stderr"]
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
    assert [p.suffix for p in artefact_files(basetemp)] == [".stderr"]


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
    assert re.search(r"last \d+ of \d+ messages on the bus:", text)
    assert "no footer" in text or "is incomplete" in text


def test_a_bad_message_count_is_a_usage_error(run):
    result, _ = run("def test_nothing(): pass", "--sil-artefact-messages=-1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--sil-artefact-messages must be 0 or more" in result.stderr.str()
