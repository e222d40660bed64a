"""sil-sim's process lifecycle: it stops cleanly and promptly on SIGTERM and
SIGINT, it never outlives a harness that dies without stopping it (the
launcher passes --exit-with-parent), and many parallel start/stop cycles
collide on nothing. Every wait is bounded; the only time checked is the
1 s stop contract, with a margin for a loaded machine."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from sil import SimProcess, SimStartError

CASES = Path(__file__).parent / "lifecycle_cases"
STOP_CONTRACT_S = 1.0
LOADED_MACHINE_MARGIN_S = 0.5


def _state(pid: int) -> str | None:
    """The process's state letter (R, S, Z, ...) or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def _running(pid: int) -> bool:
    # A zombie has stopped running; only its parent (now init) can reap it.
    return _state(pid) not in (None, "Z")


def _wait_gone(pids, limit_s=20.0) -> list[int]:
    """Polls until none of pids runs or the limit passes; returns those still running."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if _running(pid)]
        if not alive:
            return []
        time.sleep(0.05)
    return [pid for pid in pids if _running(pid)]


def _pids_with_env(marker: str) -> list[int]:
    """Every process whose environment carries marker: the process table check."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes() and _running(int(entry.name)):
                found.append(int(entry.name))
        except OSError:  # gone meanwhile, or not ours
            continue
    return found


def _python_env(sil_sim_path, **extra) -> dict:
    import sil
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(sil.__file__).parent.parent)
    env["SIL_SIM"] = str(sil_sim_path)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("clock,threads", [("realtime", 1), ("fast", 2), ("step", 1)])
def test_a_signal_stops_the_sim_with_status_zero_within_the_contract(sil_sim_path, tmp_path, signum, clock, threads):
    proc = SimProcess(sil_sim_path, ["--port", "0", "--clock", clock], cwd=tmp_path)
    stderr_file = proc.stderr_path
    assert len(list(Path(f"/proc/{proc.pid}/task").iterdir())) == threads
    started = time.monotonic()
    proc.send_signal(signum)
    status = proc.wait(timeout=30)  # a guard against a hang, not a speed expectation
    elapsed = time.monotonic() - started

    assert status == 0, proc.stderr_text()
    assert elapsed < STOP_CONTRACT_S + LOADED_MACHINE_MARGIN_S, f"took {elapsed:.3f} s to stop"
    assert proc.stopped_report() is not None, proc.stderr_text()
    assert _state(proc.pid) is None, "reaped: no process and no thread of it is left"
    assert list(tmp_path.iterdir()) == [], "sil-sim wrote files in its working directory"
    assert not stderr_file.exists(), "the launcher's temporary stderr file was left behind"


def test_the_launcher_makes_the_sim_follow_its_parent(sil_sim_path):
    with SimProcess(sil_sim_path) as proc:
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
        assert b"--exit-with-parent" in cmdline
        assert cmdline[cmdline.index(b"--exit-with-parent") + 1] == str(os.getpid()).encode()


def test_exit_with_parent_refuses_a_process_that_is_not_the_parent(sil_sim_path, tmp_path):
    with pytest.raises(SimStartError) as error:
        SimProcess(sil_sim_path, ["--port", "0", "--exit-with-parent", "1"], exit_with_parent=False,
                   log_dir=tmp_path)
    assert error.value.returncode == 1
    assert "process 1 is not sil-sim's parent" in error.value.stderr


def test_a_sim_stops_when_its_harness_is_killed_with_sigkill(sil_sim_path, tmp_path):
    harness = subprocess.Popen(
        [sys.executable, "-c",
         "import os, sys, time\n"
         "from sil import SimProcess\n"
         "proc = SimProcess(os.environ['SIL_SIM'], ['--port', '0'])\n"
         "print(proc.pid, flush=True)\n"
         "time.sleep(60)\n"],
        stdout=subprocess.PIPE, env=_python_env(sil_sim_path), text=True)
    try:
        sim_pid = int(harness.stdout.readline())
        assert _running(sim_pid)
        harness.kill()
        harness.wait(timeout=30)
        assert _wait_gone([sim_pid]) == [], "the sim outlived its SIGKILLed harness"
    finally:
        harness.kill()
        harness.stdout.close()
        harness.wait(timeout=30)


def test_sims_stop_when_pytest_xdist_and_its_workers_are_killed(sil_sim_path, tmp_path):
    env = _python_env(sil_sim_path, SIL_LIFECYCLE_DIR=str(tmp_path))
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2",
         str(CASES / "harness_killed.py")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.monotonic() + 60
        while len(list(tmp_path.glob("case-?"))) < 2 and time.monotonic() < deadline and run.poll() is None:
            time.sleep(0.05)
        pairs = [tuple(map(int, f.read_text().split())) for f in sorted(tmp_path.glob("case-?"))]
        assert len(pairs) == 2, "the inner pytest run never launched its sims"
        workers = {worker for worker, _ in pairs}
        sims = [sim for _, sim in pairs]
        # SIGKILL every pytest process (the controller and its workers), but
        # not the sims: they must stop on their own.
        for pid in [run.pid, *workers]:
            os.kill(pid, signal.SIGKILL)
        assert _wait_gone(sims) == [], "a sim outlived its killed pytest-xdist worker"
    finally:
        run.kill()
        run.wait(timeout=30)


def test_parallel_start_stop_cycles_leave_nothing_behind(sil_sim_path):
    marker = f"SIL_LIFECYCLE_RUN={uuid.uuid4().hex}"
    name, value = marker.split("=")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "4", str(CASES / "cycles.py")],
        capture_output=True, text=True, timeout=600, env=_python_env(sil_sim_path, **{name: value}))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "200 passed" in result.stdout, result.stdout[-2000:]
    assert "Address already in use" not in result.stdout + result.stderr
    assert _wait_gone(_pids_with_env(marker), limit_s=10) == [], "processes of the run are still running"


def test_a_sim_that_cannot_bind_is_a_start_error_with_its_stderr(sil_sim_path, tmp_path):
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        with pytest.raises(SimStartError) as error:
            SimProcess(sil_sim_path, ["--port", str(port)], log_dir=tmp_path)
    assert error.value.returncode == 1
    assert f"cannot bind 127.0.0.1:{port}: Address already in use" in error.value.stderr
    assert "exited before it was ready" in str(error.value)
    assert "Address already in use" in str(error.value), "the error shows the sim's stderr"
