"""Socket targets: a launched sil-sim on each clock, attaching to one that
is already running, the wall-clock guard, catalogue mismatches, and sims
without a control plane (played by a fake sim on a thread)."""

import os
import select
import signal
import socket
import struct
import threading
import warnings

import pytest

import sil
from sil import (
    CatalogueMismatchError,
    CatalogueMismatchWarning,
    ControlError,
    Heartbeat,
    NetworkTarget,
    PlantTemperature,
    ProcessTarget,
    RevisionRequest,
    RevisionResponse,
    SilTimeout,
    SimHungError,
    SimProcess,
)
from sil import sil_control_pb2 as pb

from changed_catalogue import changed_messages


@pytest.fixture
def launch(sil_sim_path, tmp_path):
    targets = []

    def launch_one(**kwargs):
        target = ProcessTarget(sil_sim_path, log_dir=tmp_path, **kwargs)
        targets.append(target)
        return target

    yield launch_one
    for target in targets:
        target.close()


# -- the step clock over a socket -------------------------------------------

def test_process_target_launches_a_step_sim_and_reports_its_build(launch):
    target = launch()
    assert (target.clock, target.rate_hz, target.stepped) == ("step", 100, True)
    assert target.ready.catalogue_matches and target.ready.catalogue_hash == sil.catalogue_hash
    assert target.build["git_revision"] == target.process.ready["git_revision"]
    assert target.build == {"version": target.process.ready["version"],
                            "git_revision": target.process.ready["git_revision"]}


def test_a_long_advance_loses_nothing_even_with_a_small_receive_buffer(launch):
    # 60 s at 100 Hz is ~12,600 datagrams; the target cuts the advance into
    # chunks that fit its socket buffer, so every one arrives.
    target = launch(receive_buffer=4096)
    target.advance(sil.s(60))
    stats = target.stats()
    assert sum(stats.details["sent"].values()) == len(target.records()) > 12_000
    assert stats.details["harness_rx_drops"] == 0
    assert stats.details["harness_undecodable"] == 0


def test_publication_times_are_bounded_by_the_advance_that_carried_them(launch):
    target = launch()
    target.advance(ticks=55)
    records = [r for r in target.records() if r.msg_id == int(Heartbeat.ID)]
    assert len(records) == 6
    for record in records:
        true_time = Heartbeat.from_bytes(record.payload).sim_time_ns
        assert record.earliest_ns <= true_time <= record.latest_ns
        assert record.sim_time_ns in (None, true_time)


def test_an_error_reply_names_the_problem(launch):
    target = launch()
    with pytest.raises(ControlError, match="WRONG_CLOCK: pause needs the realtime or fast clock; this sim runs the step clock") as error:
        target.control_request(pause=pb.Pause())
    assert error.value.code == "WRONG_CLOCK"
    with pytest.raises(ControlError, match="INVALID_ARGUMENT"):
        target.control_request(advance=pb.Advance(until=pb.Until(msg_id=5, limit_ns=1)))
    assert target.now_ns == 0


def test_a_sim_that_stops_answering_is_reported_as_hung_not_as_a_failed_condition(launch):
    target = launch(wall_timeout=0.5)
    os.kill(target.process.pid, signal.SIGSTOP)
    try:
        with pytest.raises(SimHungError, match="the sim appears hung: no reply to Advance") as error:
            target.expect(Heartbeat, where={"sequence": 5}, within=sil.s(1))
        assert not isinstance(error.value, AssertionError)
        assert "--sil-wall-timeout" in str(error.value)
    finally:
        os.kill(target.process.pid, signal.SIGCONT)
    assert target.close() == 0


def test_a_sim_that_exits_is_reported_with_its_status_and_stderr(launch):
    target = launch()
    target.process.send_signal(signal.SIGKILL)
    target.process.wait(10)
    with pytest.raises(SimHungError, match="sil-sim exited with status -9") as error:
        target.advance(ticks=1)
    assert "sil-sim stderr" in str(error.value)


# -- free-running clocks ------------------------------------------------------

def test_realtime_clock_waits_in_wall_time_for_simulated_time(launch):
    target = launch(clock="realtime", speed=20.0)
    assert (target.clock, target.stepped, target.speed) == ("realtime", False, 20.0)
    beat = target.expect(Heartbeat, where={"sequence": 3}, within=sil.s(2))
    assert beat.sequence == 3
    before = target.now_ns
    target.advance(ms=500)
    assert target.now_ns >= before + 500_000_000
    with pytest.raises(SilTimeout, match="no OverTemperatureFault within 200 ms of simulated time"):
        target.expect(sil.OverTemperatureFault, within=sil.ms(200))
    # Only bounds are known for a message's time on a free-running clock.
    with pytest.raises(LookupError, match="not known"):
        target.time_of(beat)


def test_fast_clock_runs_ahead_and_advance_waits_until_it_has(launch):
    target = launch(clock="fast")
    before = target.now_ns
    target.advance(sil.s(30))
    assert target.now_ns >= before + 30_000_000_000
    assert target.stats().details["clock"] == "fast"


# -- attaching to a sim that is already running ------------------------------

@pytest.fixture
def running_sim(sil_sim_path, tmp_path):
    def start(*args):
        process = SimProcess(sil_sim_path, ["--port", "0", *args], log_dir=tmp_path)
        started.append(process)
        return process

    started = []
    yield start
    for process in started:
        assert process.stop() == 0


def test_attach_to_a_running_step_sim_drives_it_like_a_launched_one(running_sim):
    process = running_sim("--clock", "step")
    with NetworkTarget("127.0.0.1", process.port) as target:
        assert target.stepped
        response = target.request(RevisionRequest(request_id=3), RevisionResponse, within=sil.ms(10))
        assert target.time_of(response) == 0
        target.advance(ms=100)
        assert target.now_ns == 100_000_000
    assert process.is_running()  # attaching never stops the sim


def test_attach_to_a_running_realtime_sim(running_sim):
    process = running_sim()
    with NetworkTarget("127.0.0.1", process.port) as target:
        assert (target.clock, target.stepped, target.kind) == ("realtime", False, "udp")
        target.expect(Heartbeat, within=sil.s(1))
        assert target.expect(PlantTemperature, within=sil.s(1)).temperature_c >= 20.0


# -- sims that only a fake can play ------------------------------------------

class FakeSim:
    """A UDP socket on a thread that answers datagrams with handler(data) ->
    [datagrams]; it never blocks longer than 50 ms, so stop() is prompt."""

    def __init__(self, handler):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.received = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            if not select.select([self.sock], [], [], 0.05)[0]:
                continue
            data, peer = self.sock.recvfrom(65536)
            self.received.append(data)
            for reply in self.handler(data):
                self.sock.sendto(reply, peer)

    def stop(self):
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


def _reply(sequence, **result):
    reply = pb.Reply(sequence=sequence, sim_time_ns=0, tick=0)
    (name, value), = result.items()
    getattr(reply, name).CopyFrom(value)
    return b"\xf1\xff" + reply.SerializeToString()


def _request(data):
    request = pb.Request()
    request.ParseFromString(data[2:])
    return request


def test_a_sim_without_a_control_plane_is_attached_over_the_data_protocol():
    def handler(data):
        if data[:2] == b"\xd0\x07":  # only the data protocol: answers revisions, ignores 0xFFF0
            request_id = struct.unpack_from("<I", data, 2)[0]
            return [sil.encode(RevisionResponse.zero(request_id=request_id, tick_rate_hz=50,
                                                     catalogue_hash=sil.catalogue_hash)),
                    sil.encode(Heartbeat.zero(sequence=1))]
        return []

    fake = FakeSim(handler)
    try:
        with pytest.warns(RuntimeWarning, match="has no control plane"):
            target = NetworkTarget("127.0.0.1", fake.port, hello_timeout=0.2)
        with target:
            assert (target.control, target.stepped, target.rate_hz, target.build) == (False, False, 50, None)
            assert target.expect(Heartbeat, within=sil.ms(100)).sequence == 1
    finally:
        fake.stop()




def test_a_sim_with_another_catalogue_warns_and_is_decoded_from_its_catalogue():
    theirs = 0x0BADCAFE
    catalogue = pb.Catalogue(hash=theirs)
    for info in changed_messages():
        message = catalogue.messages.add(id=info.id, name=info.name, size=info.size)
        for f in info.fields:
            message.fields.add(name=f.name, type=f.kind, offset=f.offset, size=f.size, count=f.count)

    def handler(data):
        if data[:2] != b"\xf0\xff":
            return []
        request = _request(data)
        command = request.WhichOneof("command")
        if command == "hello":
            return [_reply(request.sequence, ready=pb.Ready(catalogue_hash=theirs, clock="step", rate_hz=100,
                                                            speed=1.0))]
        if command == "get_catalogue":
            return [_reply(request.sequence, catalogue=catalogue)]
        if command == "advance":
            return [struct.pack("<Hi", 2999, -7), struct.pack("<H", 2002) + bytes(20) + b"\x09\x00",
                    _reply(request.sequence, advanced=pb.Advanced(ticks_run=1))]
        return [_reply(request.sequence, stats=pb.Stats())]

    fake = FakeSim(handler)
    try:
        with pytest.warns(CatalogueMismatchWarning) as warned:
            target = NetworkTarget("127.0.0.1", fake.port)
        text = str(warned[0].message)
        assert f"{theirs:#010x}" in text and f"{sil.catalogue_hash:#010x}" in text and "Heartbeat" in text
        with target:
            target.advance(ticks=1)
            extra, heartbeat = target.history()
            assert (type(extra).__name__, extra.value) == ("Extra", -7)
            assert heartbeat.load == 9
            assert target.history(target.types.Heartbeat) == [heartbeat]
            with pytest.raises(CatalogueMismatchError, match="use the class made from its catalogue"):
                target.history(Heartbeat)
            with pytest.raises(CatalogueMismatchError):
                target.inject(Heartbeat.zero())
            target.inject(target.types.Extra(value=5))
            target.stats()  # a round trip: the injection has been received
            assert struct.pack("<Hi", 2999, 5) in fake.received
    finally:
        fake.stop()


def test_a_matching_catalogue_gives_no_warning(running_sim):
    process = running_sim("--clock", "step")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        NetworkTarget("127.0.0.1", process.port).close()
    assert [str(w.message) for w in caught] == []


# -- telling a hung sim from one that lacks something ---------------------------

def test_a_sim_without_a_revision_service_attaches_over_its_control_plane_and_says_what_is_missing(tmp_path):
    # framework_services = false: no RevisionService, no HeartbeatService.
    with SimProcess(os.environ["SIL_BARE_SIM"], ["--port", "0", "--clock", "step"], log_dir=tmp_path) as process:
        with NetworkTarget("127.0.0.1", process.port) as target:
            assert target.control and target.stepped
            assert target.expect(PlantTemperature, within=sil.ms(20)).temperature_c == 20.0
            with pytest.raises(SilTimeout) as caught:
                target.request(RevisionRequest(request_id=3), RevisionResponse, within=sil.ms(100))
    text = str(caught.value)
    assert "The sim has published no RevisionResponse since it started" in text
    assert "a system with framework_services = false has none" in text


def test_a_rig_without_control_plane_or_revision_service_is_told_apart_from_a_hung_one():
    def handler(data):
        if data[:2] == b"\xf0\xff":
            return []  # no control plane
        return [sil.encode(Heartbeat.zero(sequence=1)), sil.encode(PlantTemperature.zero(temperature_c=21.0))]

    fake = FakeSim(handler)
    try:
        with pytest.raises(sil.SimAttachError) as caught:
            NetworkTarget("127.0.0.1", fake.port, hello_timeout=0.2)
    finally:
        fake.stop()
    text = str(caught.value)
    assert f"the sim at 127.0.0.1:{fake.port} is running (it sent 1 x Heartbeat, 1 x PlantTemperature)" in text
    assert "it has no control plane (no reply to Hello) and no RevisionService" in text
    assert "hung" not in text


def test_an_endpoint_that_answers_nothing_is_reported_as_such():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        with pytest.raises(SimHungError) as caught:
            NetworkTarget("127.0.0.1", port, hello_timeout=0.2, wall_timeout=0.5)
    text = str(caught.value)
    assert "no answer to Hello (a control plane) or to a RevisionRequest (a RevisionService), and no datagram" in text
    assert f"the process that owns 127.0.0.1:{port}, pid {os.getpid()} (" in text
    assert "is running but did not answer: it is not a sil sim, or its loop is stuck" in text


def test_a_stopped_sim_is_reported_as_stopped(sil_sim_path, tmp_path):
    with SimProcess(sil_sim_path, ["--port", "0", "--clock", "step"], log_dir=tmp_path) as process:
        os.kill(process.pid, signal.SIGSTOP)
        try:
            with pytest.raises(SimHungError) as caught:
                NetworkTarget("127.0.0.1", process.port, hello_timeout=0.2, wall_timeout=0.5)
        finally:
            os.kill(process.pid, signal.SIGCONT)
    text = str(caught.value)
    assert f"pid {process.pid} (thermal-sim) is stopped (SIGSTOP or job control)" in text
    assert f"kill -CONT {process.pid}" in text


def test_a_port_where_nothing_listens_says_so():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(SimHungError, match=rf"nothing listens at 127.0.0.1:{port} \(has the sim exited, or is"):
        NetworkTarget("127.0.0.1", port, hello_timeout=0.2)
