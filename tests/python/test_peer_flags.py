"""sil-sim's peer flags end to end: --allow, --peer-policy sticky and
--peer-idle-timeout on a real sim, with harnesses on 127.0.0.2-4 (all of
127.0.0.0/8 is loopback). The rules themselves are unit-tested in C++; this
checks that the flags reach them and what the sim reports."""

import re
import time

from sil import Heartbeat, RevisionRequest, RevisionResponse, SimClient, SimProcess, control
from sil import sil_control_pb2 as pb


def _wait_for_log(proc: SimProcess, pattern: str, limit_s: float = 30.0) -> str:
    """Polls the sim's stderr (bounded) until a line matches; returns the text."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        text = proc.stderr_text()
        if re.search(pattern, text, re.MULTILINE):
            return text
        time.sleep(0.05)
    raise AssertionError(f"no line matching {pattern!r} in:\n{proc.stderr_text()}")


def test_allow_list_and_sticky_peer(sil_sim_path, tmp_path):
    args = ["--port", "0", "--allow", "127.0.0.2", "--allow", "127.0.0.3/32",
            "--peer-policy", "sticky", "--peer-takeover-after", "24h"]
    with SimProcess(sil_sim_path, args, log_dir=tmp_path) as proc, \
            SimClient("127.0.0.1", proc.port, bind=("127.0.0.4", 0)) as outsider, \
            SimClient("127.0.0.1", proc.port, bind=("127.0.0.2", 0)) as first, \
            SimClient("127.0.0.1", proc.port, bind=("127.0.0.3", 0)) as second:
        _wait_for_log(proc, r"allow 127\.0\.0\.2/32, 127\.0\.0\.3/32$")
        outsider.send(RevisionRequest(request_id=1))
        _wait_for_log(proc, r"dropped 1 inbound datagram\(s\) in the last second: not_allowed 1$")

        first.revision()
        first.expect(Heartbeat, wall_timeout=2.0)
        # The second harness may inject, but the answer goes to the sticky peer.
        second.send(RevisionRequest(request_id=7))
        first.expect(RevisionResponse, lambda r: r.request_id == 7, wall_timeout=2.0)
        assert second.collect(0.2) == [], "the sticky peer's telemetry went to another sender"

        # A Hello takes it over at once.
        second.send_raw(control.encode_request(1, hello=pb.Hello()))
        second.expect(Heartbeat, wall_timeout=2.0)
        first.drain()
        assert first.collect(0.2) == [], "the old peer still gets telemetry after the Hello"
        assert outsider.collect(0.1) == []

    report = proc.stopped_report()
    assert report is not None, proc.stderr_text()
    assert report["rx_not_allowed"] == 1
    assert report["rx_not_peer"] == 1
    assert report["peer_changes"] == 2
    assert report["rx"]["accepted"] == 2  # the two RevisionRequests of the allowed harnesses


def test_an_idle_peer_stops_getting_telemetry(sil_sim_path, tmp_path):
    with SimProcess(sil_sim_path, ["--port", "0", "--peer-idle-timeout", "100ms"], log_dir=tmp_path) as proc, \
            SimClient("127.0.0.1", proc.port) as client:
        client.revision()
        client.expect(Heartbeat, wall_timeout=2.0)
        _wait_for_log(proc, r"peer is now none \(\d+ change\(s\), 1 idle timeout\(s\) in the last second\)")
        client.drain()
        assert client.collect(0.3) == [], "telemetry still arrives after the idle timeout"
        client.revision()  # talking again makes it the peer again
        client.expect(Heartbeat, wall_timeout=2.0)
    report = proc.stopped_report()
    assert report["peer_expiries"] >= 1
    assert report["tx_no_peer"] > 0


def test_the_step_clock_drops_an_idle_peer_while_nobody_sends(sil_sim_path, tmp_path):
    # The simulation thread receives under the step clock (no rx thread whose
    # poll would wake for the deadline): its own timer must drop the peer.
    args = ["--port", "0", "--clock", "step", "--peer-idle-timeout", "100ms"]
    with SimProcess(sil_sim_path, args, log_dir=tmp_path) as proc, SimClient("127.0.0.1", proc.port) as client:
        client.revision()
        _wait_for_log(proc, r"peer is now none \(\d+ change\(s\), 1 idle timeout\(s\) in the last second\)")
    report = proc.stopped_report()
    assert report["peer_expiries"] == 1
