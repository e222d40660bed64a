"""Send errors never stop sil-sim: a real sim runs with an LD_PRELOAD shim
(tests/shim/sendmsg_shim.cpp) that makes its first telemetry sends fail with
each errno the issue names. Each failure is counted in its class, the sim
keeps answering, and every later message goes out."""

import re
import socket
import time
from pathlib import Path

import pytest

from sil import SimProcess, control
from sil import sil_control_pb2 as pb

ERRNOS = ["ECONNREFUSED", "EAGAIN", "ENOBUFS", "EINTR", "EMSGSIZE"]
CLASSES = ["econnrefused", "eagain", "enobufs", "eintr", "emsgsize"]


@pytest.fixture
def shim(sil_sim_path) -> Path:
    path = Path(sil_sim_path).resolve().parent.parent / "lib" / "libsil_sendmsg_shim.so"
    if not path.is_file():
        pytest.fail(f"no {path}: build the sil_sendmsg_shim target (it is part of the default build)")
    return path


class Harness:
    """Raw control requests over one loopback socket; collects the
    telemetry that arrives before each reply."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.settimeout(30)  # a guard against a hung sim, not an expectation
        self.sock.connect(("127.0.0.1", port))
        self.sequence = 0
        self.telemetry: list[bytes] = []

    def call(self, **command) -> pb.Reply:
        self.sequence += 1
        self.sock.send(control.encode_request(self.sequence, **command))
        for _ in range(100_000):
            datagram = self.sock.recv(65536)
            if datagram[:2] == b"\xf1\xff":
                reply = control.decode_reply(datagram)
                assert reply is not None and reply.sequence == self.sequence
                return reply
            self.telemetry.append(datagram)
        raise AssertionError("no reply")

    def pause(self) -> None:
        """Pauses a free-running sim. Its telemetry can fill this socket's
        buffer, and the kernel then drops what comes next, a reply included:
        so Pause (which is idempotent) is sent again until it is answered:
        after 5,000 other datagrams, or after 0.2 s of silence (the reply
        was lost and the paused sim sends nothing more). Bounded: 200 tries.
        The wait is no timing expectation: a slow sim just takes more tries."""
        self.sock.settimeout(0.2)
        try:
            for _ in range(200):
                self.sequence += 1
                self.sock.send(control.encode_request(self.sequence, pause=pb.Pause()))
                for _ in range(5_000):
                    try:
                        datagram = self.sock.recv(65536)
                    except TimeoutError:
                        break
                    if datagram[:2] != b"\xf1\xff":
                        self.telemetry.append(datagram)
                        continue
                    reply = control.decode_reply(datagram)
                    if reply is not None and reply.sequence == self.sequence:
                        assert reply.HasField("ack"), reply
                        return
        finally:
            self.sock.settimeout(30)
        raise AssertionError("no answer to Pause in 200 tries")


@pytest.mark.parametrize("clock", ["step", "fast"])
def test_each_send_error_is_counted_by_class_and_the_next_message_goes_out(sil_sim_path, shim, tmp_path, clock):
    env = {"LD_PRELOAD": str(shim), "SIL_TEST_SENDMSG_ERRNOS": ",".join(ERRNOS)}
    with SimProcess(sil_sim_path, ["--port", "0", "--clock", clock], env=env, log_dir=tmp_path) as proc:
        harness = Harness(proc.port)
        assert harness.call(hello=pb.Hello()).HasField("ready")
        if clock == "step":
            assert harness.call(advance=pb.Advance(ticks=20)).advanced.ticks_run == 20
        # The once-a-second log reports the failures (maybe over two lines).
        deadline = time.monotonic() + 30
        while _logged_send_failures(proc.stderr_text()) < len(ERRNOS) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _logged_send_failures(proc.stderr_text()) == len(ERRNOS), proc.stderr_text()
        # Only now: on the fast clock the scripted failures can still be
        # happening while the first replies go out. Paused, the fast clock
        # sends nothing more, so the stats reply cannot be lost in a flood.
        if clock == "fast":
            harness.pause()
        stats = harness.call(get_stats=pb.GetStats()).stats

    assert proc.returncode == 0, proc.stderr_text()
    assert stats.tx_errors == len(ERRNOS)
    assert dict(stats.tx_errors_by_reason) == {**{c: 1 for c in CLASSES}, "other": 0}
    sent = sum(c.count for c in stats.sent)
    assert sent > 0, "nothing went out after the failures"
    if clock == "step":
        # Everything the sim says it sent arrived, and nothing else did.
        assert len(harness.telemetry) == sent
    else:
        # The fast clock outruns a Python reader: what counts is that
        # telemetry arrived after the failures.
        assert harness.telemetry
    report = proc.stopped_report()
    assert report["tx_errors"] == len(ERRNOS)
    assert report["tx_errors_by_reason"] == {**{c: 1 for c in CLASSES}, "other": 0}


def _logged_send_failures(stderr: str) -> int:
    """The failures sil-sim's activity log reported: lines like
    'sil-sim: 5 send(s) failed in the last second: econnrefused 1, ...'."""
    found = re.findall(r"^sil-sim: (\d+) send\(s\) failed in the last second:", stderr, re.MULTILINE)
    return sum(int(n) for n in found)
