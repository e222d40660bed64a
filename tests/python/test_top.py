"""sil-top, the live view (python/sil/top.py): run in a pty as a person runs
it, as `--once` as a script runs it, against a launched thermal-sim and the
example HIL rig, and against addresses where no sim answers."""

import fcntl
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

import sil
from sil import PlantTemperature
from sil.client import SimClient
from sil.launcher import SimProcess

WRAPPER = Path(sil.__file__).resolve().parents[2] / "bin" / "sil-top"
# Bounds every read of a child's output; never an assertion about speed.
_GENEROUS = 60.0
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@pytest.fixture
def realtime_sim(sil_sim_path, tmp_path):
    with SimProcess(sil_sim_path, ["--port", "0", "--clock", "realtime"], log_dir=tmp_path) as process:
        yield process


@pytest.fixture
def rig(tmp_path):
    # The rig takes only its own flags: no --exit-with-parent.
    with SimProcess(os.environ["SIL_HIL_RIG"], ["--port", "0"], log_dir=tmp_path, exit_with_parent=False) as process:
        yield process


def top(*args, wrapper=False):
    command = [str(WRAPPER)] if wrapper else [sys.executable, "-m", "sil.top"]
    return subprocess.run([*command, *map(str, args)], capture_output=True, text=True, timeout=_GENEROUS)


class PtyRun:
    """sil-top on a 160x40 pseudo-terminal: what it drew, and its exit status."""

    def __init__(self, *args) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
        self.proc = subprocess.Popen([sys.executable, "-m", "sil.top", *map(str, args)],
                                     stdin=slave, stdout=slave, stderr=slave, close_fds=True)
        os.close(slave)
        self._master = master
        self.output = ""

    def read_until(self, predicate) -> bool:
        """Reads what sil-top draws until predicate(output) holds or it exits."""
        deadline = time.monotonic() + _GENEROUS
        while not predicate(self.output) and time.monotonic() < deadline:
            ready, _, _ = select.select([self._master], [], [], max(deadline - time.monotonic(), 0))
            if not ready:
                break
            try:
                chunk = os.read(self._master, 65536)
            except OSError:  # EIO: the child has gone and the pty is closed
                break
            if not chunk:
                break
            self.output += chunk.decode(errors="replace")
        return predicate(self.output)

    def finish(self) -> int:
        self.read_until(lambda _: False)
        os.close(self._master)
        return self.proc.wait(timeout=_GENEROUS)

    def frames(self) -> list[str]:
        """Each redraw as plain text: a frame starts with the cursor-home sequence."""
        return [_ANSI.sub("", part).replace("\r", "") for part in self.output.split("\x1b[H")[1:]]


def row(screen: str, name: str) -> list[str]:
    """The cells of the message table's row for name."""
    for line in screen.splitlines():
        cells = line.split()
        if cells and cells[0] == name:
            return cells
    raise AssertionError(f"no {name} row in:\n{screen}")


def test_the_live_view_shows_rates_ticks_drops_and_peer_and_leaves_the_harness_its_telemetry(realtime_sim):
    with SimClient("127.0.0.1", realtime_sim.port) as harness:
        harness.revision()  # the harness is the sim's peer
        run = PtyRun(f"udp://127.0.0.1:{realtime_sim.port}", "--count", 2, "--interval", 0.3)
        status = run.finish()
        assert status == 0, run.output
        frames = run.frames()
        assert "measuring" in frames[0]
        screen = frames[-1]
        assert len(frames) == 3, run.output
        assert f"sil-top udp://127.0.0.1:{realtime_sim.port}   clock realtime, speed 1, running" in screen
        # message  id  published  /s  /sim s  received  /s  sent  /s
        plant = row(screen, "PlantTemperature")
        assert plant[1] == str(int(PlantTemperature.ID))
        assert float(plant[3]) > 0
        assert plant[4] == "100.0", "one reading per tick at 100 Hz, counted in simulated time"
        assert float(plant[8]) > 0, "the harness, the peer, is sent the readings"
        assert int(row(screen, "RevisionRequest")[5]) == 1, "received from the harness"
        ticks = re.search(r"^ticks +(\d+) +([\d.]+)/s +overruns (\d+)", screen, re.M)
        assert ticks and int(ticks[1]) > 0 and float(ticks[2]) > 0, screen
        drops = re.search(r"^drops +(.*)$", screen, re.M)[1]
        assert {"too_short", "unknown_id", "wrong_size", "truncated", "inbox_full", "not_allowed"} <= \
            set(drops.split()[0::2]), drops
        assert re.search(r"^peer +changes 1 ", screen, re.M), "sil-top's queries never took the peer:\n" + screen

        # The harness is still the peer: its telemetry keeps coming.
        harness.drain()
        harness.expect(PlantTemperature, wall_timeout=_GENEROUS)


def test_once_prints_one_plain_frame_for_scripts(realtime_sim):
    result = top(f"udp://127.0.0.1:{realtime_sim.port}", "--once", "--interval", 0.2, wrapper=True)
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout
    assert result.stdout.count("sil-top udp://") == 1
    assert row(result.stdout, "PlantTemperature")[4] == "100.0"
    assert row(result.stdout, "Heartbeat")[1] == "2002"
    assert re.search(r"^peer +changes 0 .*sent with no peer \d+", result.stdout, re.M), result.stdout


def test_a_sim_that_stops_ends_the_view_with_a_clear_error(sil_sim_path, tmp_path):
    process = SimProcess(sil_sim_path, ["--port", "0", "--clock", "realtime"], log_dir=tmp_path)
    try:
        run = PtyRun(f"udp://127.0.0.1:{process.port}", "--count", 1000, "--interval", 0.1)
        assert run.read_until(lambda text: "PlantTemperature" in text), run.output
    finally:
        process.stop()
    assert run.finish() == 1
    assert f"sil-top: error: the sim at udp://127.0.0.1:{process.port} has stopped" in run.output


def test_ctrl_c_ends_the_view_cleanly_with_the_last_frame_on_screen(realtime_sim):
    run = PtyRun(f"udp://127.0.0.1:{realtime_sim.port}", "--count", 1000, "--interval", 0.1)
    assert run.read_until(lambda text: "PlantTemperature" in text), run.output
    run.proc.send_signal(signal.SIGINT)
    assert run.finish() == 0
    assert "Traceback" not in run.output
    assert "PlantTemperature" in run.frames()[-1]


def test_the_hil_rig_is_watched_over_udp(rig):
    result = top(f"udp://127.0.0.1:{rig.port}", "--once", "--interval", 0.2)
    assert result.returncode == 0, result.stderr
    assert "clock realtime" in result.stdout
    assert float(row(result.stdout, "PlantTemperature")[3]) > 0, result.stdout


def test_a_port_where_nothing_listens_is_a_clear_error():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = top(f"udp://127.0.0.1:{port}", "--once")
    assert result.returncode == 1
    assert result.stderr == (f"sil-top: error: nothing listens at udp://127.0.0.1:{port}: "
                             "is the sim running, and is that its port?\n")
    assert result.stdout == ""


def test_an_endpoint_that_never_answers_is_a_clear_error():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        result = top(f"udp://127.0.0.1:{port}", "--once", "--timeout", 0.5)
        assert silent.recv(100)[:2] == b"\xf0\xff", "it was asked GetStats"
    assert result.returncode == 1
    assert f"no reply from udp://127.0.0.1:{port} to GetStats within 0.5 s" in result.stderr


@pytest.mark.parametrize("args, complaint", [
    (["127.0.0.1:5"], "give it as udp://HOST:PORT"),
    (["udp://127.0.0.1:5", "--count", "0"], "not a positive whole number"),
    (["udp://127.0.0.1:5", "--interval", "-1"], "not a positive number of seconds"),
])
def test_bad_arguments_are_refused_with_the_reason(args, complaint):
    result = top(*args)
    assert result.returncode == 2
    assert complaint in result.stderr
