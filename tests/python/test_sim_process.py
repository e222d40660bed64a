"""sil-sim as a process: its ready line, command line, signals and start-up
failures. Every wait is bounded; nothing here sleeps."""

import json
import select
import signal
import socket
import subprocess
import time

import pytest

import sil
from sil import SimClient, SimProcess
from test_lifecycle import LOADED_MACHINE_MARGIN_S, STOP_CONTRACT_S

RUN_TIMEOUT = 5.0  # for runs that must end by themselves


def _run(sil_sim_path, *args):
    return subprocess.run([str(sil_sim_path), *args], capture_output=True, text=True, timeout=RUN_TIMEOUT,
                          stdin=subprocess.DEVNULL)


@pytest.fixture
def process(sil_sim_path, tmp_path):
    with SimProcess(sil_sim_path, log_dir=tmp_path) as proc:
        yield proc


def test_ready_line_is_one_json_object_with_the_port_it_answers_on(process):
    ready = json.loads(process.ready_line)
    assert isinstance(ready, dict)
    assert ready["event"] == "ready"
    assert type(ready["port"]) is int and 0 < ready["port"] < 65536
    assert ready["pid"] == process.pid
    assert ready["bind"] == "127.0.0.1"
    assert ready["rate_hz"] == 100
    assert ready["catalogue_hash"] == sil.catalogue_hash
    with SimClient("127.0.0.1", ready["port"]) as client:
        response = client.revision()
    assert response.catalogue_hash == sil.catalogue_hash
    assert response.git_revision == ready["git_revision"]
    assert f"{response.version_major}.{response.version_minor}.{response.version_patch}" == ready["version"]


def test_nothing_but_the_ready_line_is_written_to_stdout(sil_sim_path):
    proc = subprocess.Popen([str(sil_sim_path), "--port", "0"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        # Readable stdout means the ready line is out, and the sim prints it
        # only after its signal handlers are in place.
        assert select.select([proc.stdout], [], [], 10.0)[0], "no ready line within 10 s"
        proc.send_signal(signal.SIGTERM)
        stdout, _ = proc.communicate(timeout=RUN_TIMEOUT)
    finally:
        proc.kill()
        proc.wait(RUN_TIMEOUT)
    assert proc.returncode == 0
    lines = stdout.decode().splitlines(keepends=True)
    assert len(lines) == 1 and lines[0].endswith("\n"), stdout
    assert json.loads(lines[0])["event"] == "ready"


def test_help_prints_usage_and_exits_0(sil_sim_path):
    result = _run(sil_sim_path, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: sil-sim")
    for flag in ("--bind", "--port", "--rate", "--help"):
        assert flag in result.stdout


BAD_COMMAND_LINES = [
    (["--frobnicate"], "unknown option '--frobnicate'"),
    (["--port", "70000"], "--port: '70000'"),
    (["--port", "abc"], "--port: 'abc'"),
    (["--port", "-1"], "--port: '-1'"),
    (["--rate", "0"], "--rate: '0'"),
    (["--rate", "100001"], "--rate: '100001'"),
    (["--bind", "nonsense"], "--bind: 'nonsense'"),
    (["--port"], "--port needs a value"),
    (["--rate"], "--rate needs a value"),
    (["--help=yes"], "--help takes no value"),
]


@pytest.mark.parametrize("args, complaint", [pytest.param(*case, id=" ".join(case[0])) for case in BAD_COMMAND_LINES])
def test_bad_command_line_exits_2_with_a_message(sil_sim_path, args, complaint):
    result = _run(sil_sim_path, *args)
    assert result.returncode == 2
    assert complaint in result.stderr
    assert result.stdout == "", "no ready line for a bad command line"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_signal_stops_the_sim_with_status_0_within_a_second(process, signum):
    # The 1 s stop is sil-sim's contract (docs/sil-sim.md); the margin, as in
    # test_lifecycle, is for a loaded machine, not a speed expectation.
    limit = STOP_CONTRACT_S + LOADED_MACHINE_MARGIN_S
    start = time.monotonic()
    process.send_signal(signum)
    try:
        status = process.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        pytest.fail(f"sil-sim still running {limit:g} s after {signum.name}")
    assert status == 0, process.stderr_text()
    assert time.monotonic() - start < limit
    assert process.stopped_report()["ticks"] >= 1


def test_binding_a_port_in_use_fails_with_a_clear_message(sil_sim_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        result = _run(sil_sim_path, "--port", str(port))
    assert result.returncode == 1
    assert f"cannot bind 127.0.0.1:{port}" in result.stderr
    assert "in use" in result.stderr
    assert result.stdout == ""


def test_two_sims_on_kernel_chosen_ports_do_not_collide(sil_sim_path, tmp_path):
    with SimProcess(sil_sim_path, log_dir=tmp_path) as first, SimProcess(sil_sim_path, log_dir=tmp_path) as second:
        assert first.port != second.port


def test_rate_flag_reaches_the_revision_response(sil_sim_path, tmp_path):
    with SimProcess(sil_sim_path, ["--port", "0", "--rate", "250"], log_dir=tmp_path) as proc:
        assert proc.ready["rate_hz"] == 250
        with SimClient("127.0.0.1", proc.port) as client:
            assert client.revision().tick_rate_hz == 250
