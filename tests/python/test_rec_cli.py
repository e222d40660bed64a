"""sil-rec, the recording tool: as `python -m sil.rec` and as the wrapper
the build installs beside sil-sim."""

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import sil
from sil import Heartbeat, PlantTemperature, SetPoint

import recording_writer as writer

WRAPPER = Path(sil.__file__).resolve().parents[2] / "bin" / "sil-rec"


def messages(seconds=2):
    """A 100 Hz PlantTemperature, a 10 Hz Heartbeat with a hole from 0.5 s to
    1.2 s, and one injected SetPoint."""
    out = []
    for tick in range(seconds * 100):
        t = tick * 10_000_000
        out.append((t, int(PlantTemperature.ID), PlantTemperature.zero(temperature_c=20 + tick / 10).to_bytes()))
        if tick % 10 == 0 and not 50 < tick < 120:
            out.append((t, int(Heartbeat.ID), Heartbeat(sequence=tick // 10, tick=tick, sim_time_ns=t).to_bytes()))
        if tick == 30:
            out.append((t, int(SetPoint.ID), SetPoint(setpoint_c=60.0).to_bytes(), writer.INJECTED))
    return out


@pytest.fixture
def recording(tmp_path):
    path = tmp_path / "run.silrec"
    path.write_bytes(writer.recording(messages(), rate_hz=100, clock="step"))
    return path


def sil_rec(*args, wrapper=False):
    if wrapper:
        command = [str(WRAPPER), *map(str, args)]
        env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    else:
        command = [sys.executable, "-m", "sil.rec", *map(str, args)]
        env = None
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


def test_info_summarises_counts_rates_and_gaps(recording):
    result = sil_rec("info", recording, "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["clock"], summary["rate_hz"], summary["complete"], summary["dropped"]) == ("step", 100, True, 0)
    assert summary["messages"] == 200 + 14 + 1
    assert (summary["first_ns"], summary["last_ns"], summary["duration_ns"]) == (0, 1_990_000_000, 1_990_000_000)
    types = {entry["name"]: entry for entry in summary["types"]}
    assert types["PlantTemperature"]["count"] == 200 and types["PlantTemperature"]["rate_hz"] == pytest.approx(100)
    assert types["PlantTemperature"]["max_gap_ns"] == 10_000_000
    assert types["Heartbeat"]["max_gap_ns"] == 700_000_000 and types["Heartbeat"]["max_gap_at_ns"] == 500_000_000
    assert types["SetPoint"]["directions"] == {"injected": 1} and types["SetPoint"]["rate_hz"] is None

    text = sil_rec("info", recording)
    assert text.returncode == 0, text.stderr
    assert "step, 100 Hz" in text.stdout and "complete   yes, 0 dropped" in text.stdout
    heartbeat_row = next(line for line in text.stdout.splitlines() if "Heartbeat" in line)
    assert heartbeat_row.split()[:6] == ["2002", "Heartbeat", "14", "6.84211", "700", "ms"]


def test_dump_prints_decoded_messages_with_filters(recording):
    result = sil_rec("dump", recording, "--type", "Heartbeat", "--type", "2100", "--start", "200ms", "--end", "0.5s")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines == [
        "0.200000000 s  published        Heartbeat             sequence=2 tick=20 sim_time_ns=200000000",
        "0.300000000 s  published        Heartbeat             sequence=3 tick=30 sim_time_ns=300000000",
        "0.300000000 s  injected         SetPoint              setpoint_c=60.0",
        "0.400000000 s  published        Heartbeat             sequence=4 tick=40 sim_time_ns=400000000",
    ]
    limited = sil_rec("dump", recording, "--direction", "published", "--limit", "3")
    assert len(limited.stdout.splitlines()) == 3 and "injected" not in limited.stdout


def test_dump_shows_control_traffic_as_protobuf_text_and_odd_payloads_as_hex(tmp_path):
    from sil import sil_control_pb2 as cpb
    request = cpb.Request(sequence=3, advance=cpb.Advance(ticks=2)).SerializeToString()
    path = tmp_path / "control.silrec"
    path.write_bytes(writer.recording([(0, 0xFFF0, request, writer.CONTROL_REQUEST),
                                       (0, int(Heartbeat.ID), b"\x01\x02\x03")]))
    result = sil_rec("dump", path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "0.000000000 s  control_request  ControlRequest        sequence: 3 advance { ticks: 2 }",
        "0.000000000 s  published        Heartbeat             payload=010203 (3 bytes; does not fit the catalogue)",
    ]


def test_csv_to_stdout_and_to_a_file(recording, tmp_path):
    result = sil_rec("csv", recording, "--type", "PlantTemperature", "--end", "30ms")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [row["PlantTemperature.temperature_c"] for row in rows] == ["20.0", "20.1", "20.2"]
    out = tmp_path / "all.csv"
    assert sil_rec("csv", recording, "-o", out).returncode == 0
    assert len(list(csv.DictReader(out.open()))) == 215


def test_plot_writes_a_png(recording, tmp_path):
    out = tmp_path / "plot.png"
    result = sil_rec("plot", recording, "PlantTemperature.temperature_c", "Heartbeat.sequence", "-o", out,
                     "--start", "100ms", "--title", "heat-up")
    assert result.returncode == 0, result.stderr
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000


def test_the_installed_wrapper_runs_without_pythonpath(recording, tmp_path):
    assert os.access(WRAPPER, os.X_OK), f"{WRAPPER} missing: the build generates it"
    result = sil_rec("info", recording, "--json", wrapper=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["messages"] == 215


def test_a_recording_cut_short_is_read_with_a_warning(recording, tmp_path):
    data = recording.read_bytes()
    cut = tmp_path / "cut.silrec"
    cut.write_bytes(data[:len(data) - 30])
    result = sil_rec("info", cut, "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["complete"] is False
    assert result.stderr.count("sil-rec: warning:") == 1 and "is incomplete" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["info", "{missing}"], "No such file or directory"),
    (["info", "{foreign}"], "not a sil recording (it does not start with the SILREC1 magic) at byte 0"),
    (["dump", "{recording}", "--type", "Nope"], "the recording has no message type 'Nope'"),
    (["dump", "{recording}", "--limit", "-1"], "--limit must be 0 or more"),
    (["csv", "{recording}", "--type", "ControlRequest"], "no fields to export"),
    (["plot", "{recording}", "Heartbeat.nope", "-o", "{out}"], "Heartbeat has no field 'nope'"),
    (["plot", "{recording}", "temperature", "-o", "{out}"], "name a field as Type.field"),
    (["plot", "{recording}", "OverTemperatureFault.temperature_c", "-o", "{out}"], "nothing to plot"),
    (["plot", "{recording}", "Heartbeat.sequence", "-o", "/nonexistent/dir/x.png"], "/nonexistent/dir/x.png"),
    (["dump", "{recording}", "--start", "5"], "is not a simulated time with a unit"),
    (["frobnicate"], "invalid choice"),
])
def test_errors_are_one_clear_line_and_exit_status_2(recording, tmp_path, args, message):
    foreign = tmp_path / "foreign.bin"
    foreign.write_bytes(b"GIF89a" + bytes(100))
    paths = {"missing": tmp_path / "missing.silrec", "foreign": foreign, "recording": recording,
             "out": tmp_path / "out.png"}
    result = sil_rec(*[arg.format(**paths) for arg in args])
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
