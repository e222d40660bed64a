"""SimProcess: start-up failures come back as SimStartError with the exit
status and stderr; stop() is bounded and idempotent."""

import os
import signal
from pathlib import Path

import pytest

from sil import SimProcess, SimStartError


def _script(tmp_path, body):
    """An executable that stands in for sil-sim."""
    path = tmp_path / "fake-sim"
    path.write_text(f"#!/usr/bin/python3\n{body}\n")
    path.chmod(0o755)
    return path


def test_missing_binary_is_a_start_error(tmp_path):
    with pytest.raises(SimStartError, match="no executable sil-sim at .*does-not-exist"):
        SimProcess(tmp_path / "does-not-exist")


def test_bad_flag_is_a_start_error_with_exit_status_and_stderr(sil_sim_path, tmp_path):
    with pytest.raises(SimStartError) as error:
        SimProcess(sil_sim_path, ["--port", "70000"], log_dir=tmp_path)
    assert error.value.returncode == 2
    assert "--port: '70000'" in error.value.stderr
    assert "exited before it was ready" in str(error.value)
    assert "--port: '70000'" in str(error.value)


def test_a_process_that_never_gets_ready_is_stopped_at_the_deadline(tmp_path):
    fake = _script(tmp_path, "import select, sys\n"
                             "sys.stderr.write('warming up\\n')\n"
                             "sys.stderr.flush()\n"
                             "select.select([], [], [])  # never ready")
    with pytest.raises(SimStartError) as error:
        SimProcess(fake, [], ready_timeout=0.3, log_dir=tmp_path)
    assert "no ready line within 0.3 s" in str(error.value)
    assert "warming up" in error.value.stderr
    assert error.value.returncode is None  # it was still running: stopped by the launcher


def test_a_line_that_is_not_json_is_a_start_error(tmp_path):
    fake = _script(tmp_path, "print('hello')")
    with pytest.raises(SimStartError, match="printed 'hello' instead of a JSON ready line"):
        SimProcess(fake, [], log_dir=tmp_path)


@pytest.mark.parametrize("line", ['{"event": "started", "port": 5}', '{"event": "ready"}',
                                  '{"event": "ready", "port": "5"}', '[1, 2]'])
def test_json_without_event_ready_and_a_port_is_a_start_error(tmp_path, line):
    fake = _script(tmp_path, f"print({line!r})")
    with pytest.raises(SimStartError, match="ready line"):
        SimProcess(fake, [], log_dir=tmp_path)


def test_stop_is_idempotent_and_returns_the_exit_status(sil_sim_path):
    proc = SimProcess(sil_sim_path)
    assert proc.is_running()
    assert proc.stop() == 0
    assert proc.stop() == 0
    assert not proc.is_running()
    with pytest.raises(ProcessLookupError):
        os.kill(proc.pid, 0)


def test_stop_kills_a_process_that_ignores_sigterm(tmp_path):
    fake = _script(tmp_path, "import signal, sys, select\n"
                             "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                             "print('{\"event\": \"ready\", \"port\": 1}', flush=True)\n"
                             "select.select([], [], [])")
    proc = SimProcess(fake, [], log_dir=tmp_path)
    assert proc.stop(timeout=0.3) == -signal.SIGKILL


def test_context_manager_stops_the_sim(sil_sim_path):
    with SimProcess(sil_sim_path) as proc:
        pid = proc.pid
    assert proc.returncode == 0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_temporary_stderr_file_is_removed_but_its_text_kept(sil_sim_path):
    with SimProcess(sil_sim_path) as proc:
        path = Path(proc.stderr_path)
        assert path.exists()
    assert not path.exists()
    assert "listening on 127.0.0.1" in proc.stderr_text()
    assert proc.stopped_report() is not None


def test_stderr_file_in_log_dir_is_kept(sil_sim_path, tmp_path):
    with SimProcess(sil_sim_path, log_dir=tmp_path) as proc:
        pass
    assert proc.stderr_path.parent == tmp_path
    assert '"event": "stopped"' in proc.stderr_path.read_text()


def test_a_file_that_cannot_be_executed_is_a_start_error(tmp_path):
    not_a_program = tmp_path / "sil-sim"
    not_a_program.write_bytes(b"\x00\x01garbage")
    not_a_program.chmod(0o755)
    with pytest.raises(SimStartError, match="cannot run .*sil-sim: .*Exec format error") as error:
        SimProcess(not_a_program, log_dir=tmp_path)
    assert error.value.returncode is None
