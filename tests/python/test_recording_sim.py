"""Recordings made by a real sil-sim (--record), read back with
sil.recording and sil-rec."""

import json
import random
import signal
import struct
import subprocess
import sys
import time
import warnings

import pytest

import sil
import sil.recording
from sil import Heartbeat, PlantTemperature, ProcessTarget, RevisionRequest, RevisionResponse, SetPoint, SimProcess
from sil.recording import IncompleteRecordingWarning


def fnv1a64(digest: int, data: bytes) -> int:
    for byte in data:
        digest = ((digest ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return digest


def test_a_stepped_run_is_recorded_exactly(sil_sim_path, tmp_path):
    path = tmp_path / "run.silrec"
    with ProcessTarget(sil_sim_path, rate_hz=100, clock="step", log_dir=tmp_path,
                       extra_args=["--record", str(path)]) as target:
        ready = target.process.ready
        target.advance(ms=100)
        target.inject(SetPoint(setpoint_c=65.0))
        target.advance(ms=200)
        assert target.request(RevisionRequest(request_id=11), RevisionResponse, within=sil.ms(10)).request_id == 11
        seen = target.records()
        stats = target.stats()
        assert target.close() == 0

    with sil.recording.open(path) as rec:
        header = rec.header
        assert (header.version, header.git_revision) == (ready["version"], ready["git_revision"])
        assert (header.clock, header.rate_hz, header.catalogue.hash) == ("step", 100, sil.catalogue_hash)
        everything = list(rec)
        assert rec.footer is not None and rec.footer.dropped == 0
        assert rec.footer.messages == len(everything)

    bus = [m for m in everything if m.direction in ("published", "injected")]
    published = [m for m in bus if m.direction == "published"]
    # What the harness received is what the recording says was published, byte for byte.
    assert [(m.msg_id, m.payload) for m in published] == [(r.msg_id, r.payload) for r in seen]
    for m, r in zip(published, seen):
        if r.sim_time_ns is not None:
            assert m.sim_time_ns == r.sim_time_ns
        else:
            assert r.earliest_ns <= m.sim_time_ns <= r.latest_ns
    assert [(m.name, m.value) for m in bus if m.direction == "injected"] == \
        [("SetPoint", SetPoint(setpoint_c=65.0)), ("RevisionRequest", RevisionRequest(request_id=11))]
    # The sim's own digest of every publication, recomputed from the recording.
    digest = 0xCBF29CE484222325
    for m in bus:
        digest = fnv1a64(digest, struct.pack("<QH", m.sim_time_ns, m.msg_id) + m.payload)
    assert (len(bus), digest) == (stats.trace_count, stats.trace_digest)
    # Control traffic: every request answered, in order.
    requests = [m.value for m in everything if m.direction == "control_request"]
    replies = [m.value for m in everything if m.direction == "control_reply"]
    assert requests and [r.sequence for r in requests] == [r.sequence for r in replies]
    assert requests[0].WhichOneof("command") == "hello"

    info = subprocess.run([sys.executable, "-m", "sil.rec", "info", str(path), "--json"], capture_output=True,
                          text=True, timeout=120)
    assert info.returncode == 0, info.stderr
    summary = json.loads(info.stdout)
    counts = {entry["name"]: entry["count"] for entry in summary["types"]}
    assert counts["PlantTemperature"] == sum(1 for m in published if m.msg_id == int(PlantTemperature.ID))
    assert counts["Heartbeat"] == 3 and summary["complete"] is True


def test_kill_9_leaves_a_readable_exact_prefix(sil_sim_path, tmp_path):
    """A sim on a fast realtime clock (no drops at this rate), killed at
    random moments: the reader ends cleanly, and the heartbeats and plant
    ticks it returns are consecutive from the start."""
    rng = random.Random(4)
    for attempt in range(3):
        path = tmp_path / f"killed-{attempt}.silrec"
        process = SimProcess(sil_sim_path, ["--port", "0", "--clock", "realtime", "--speed", "50",
                                            "--record", str(path)], log_dir=tmp_path)
        deadline = time.monotonic() + 10
        # Bounded: wait for the first flushes to reach the disk, then a random moment.
        while path.stat().st_size < 4096 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0, 0.3))
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with sil.recording.open(path) as rec:
                messages = list(rec)
                assert rec.footer is None
        assert len(caught) == 1 and isinstance(caught[0].message, IncompleteRecordingWarning)
        heartbeats = [m.value.sequence for m in messages if m.msg_id == int(Heartbeat.ID)]
        assert heartbeats == list(range(len(heartbeats))) and heartbeats
        plant_times = [m.sim_time_ns for m in messages if m.msg_id == int(PlantTemperature.ID)]
        assert plant_times == [tick * 10_000_000 for tick in range(len(plant_times))]


# Each order in which a script can load sil's protobuf modules and the
# system module, in a fresh interpreter: the control protocol first and the
# system module before the recording reader (as a script that drives a sim
# and then reads its recording does), and the system module first of all.
_READ_AFTER_LOADING = {
    "control first": "import sil.control; sil.system_module(); import sil.recording",
    "system module first": "sil.system_module(); import sil.recording",
}


@pytest.mark.parametrize("order", sorted(_READ_AFTER_LOADING))
def test_a_recording_reads_whichever_module_loaded_first(sil_sim_path, tmp_path, order):
    path = tmp_path / "run.silrec"
    args = ["--record", str(path), "--param", "thermostat.hysteresis_c=0.8"]  # the header holds a ParamSetting
    with ProcessTarget(sil_sim_path, log_dir=tmp_path, extra_args=args) as target:
        target.inject(SetPoint(setpoint_c=30.0))
        target.advance(ticks=5)
    script = (f"import sil\n{_READ_AFTER_LOADING[order]}\n"
              f"recording = sil.recording.Recording({str(path)!r})\n"
              "print(len(recording.header.start_params), sum(1 for _ in recording.messages()))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    params, messages = map(int, result.stdout.split())
    assert params == 1 and messages > 5
