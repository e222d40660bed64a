"""sil.StepLink: the lockstep round trip in C++ (docs/scenarios.md "Stepping in a loop:
sil.StepLink"). Against a real sil-sim: what it delivers equals what the
process target sees. Against a scripted fake sim on loopback: every way a
reply can be wrong, late or missing gets a clear error or lands in
undecodable, never a crash or a hang."""

from __future__ import annotations

import signal
import socket
import struct
import threading
import time

import pytest

import sil
from sil import sil_control_pb2 as pb

SIM_ARGS = ["--clock", "step", "--egress", "batched", "--port", "0"]


@pytest.fixture
def sim(sil_sim_path):
    with sil.SimProcess(sil_sim_path, SIM_ARGS) as process:
        yield process


def test_ticks_run_and_what_they_published_comes_back_decoded(sim):
    with sil.StepLink("127.0.0.1", sim.port, wall_timeout=10) as link:
        assert link.ready.clock == "step" and link.ready.bundle_bytes == sil.MAX_BUNDLE_BYTES
        link.advance()
        assert (link.tick, link.now_ns) == (1, 10_000_000)
        first = link.take()
        assert sil.Heartbeat(sequence=0, tick=0, sim_time_ns=0) in first
        link.advance(99)
        rest = link.take()
        assert link.tick == 100
        beats = [m for m in first + rest if isinstance(m, sil.Heartbeat)]
        assert [b.tick for b in beats] == list(range(0, 100, 10)), "Heartbeat is published every 10th tick"
        assert link.take() == [], "take() hands each message over once"
        assert link.bundles == 100, "a bundle per tick, the last ending with the reply"
        assert link.datagrams == 101, "and the Ready before them"
        assert link.undecodable == []


@pytest.mark.parametrize("bundle_bytes", [None, 0])
def test_it_delivers_exactly_what_the_process_target_records(sim, sil_sim_path, tmp_path, bundle_bytes):
    set_point = sil.SetPoint(setpoint_c=35.0)
    with sil.StepLink("127.0.0.1", sim.port, bundle_bytes=bundle_bytes) as link:
        link.advance(30)
        link.inject(set_point)
        link.advance(270)
        got = link.take()
        assert link.bundles == (300 if bundle_bytes is None else 0)
    with sil.ProcessTarget(sil_sim_path, log_dir=tmp_path) as target:
        target.advance(ticks=30)
        target.inject(set_point)
        target.advance(ticks=270)
        expected = [m for m in target.history() if not isinstance(m, sil.SetPoint)]
    assert got == expected


def test_an_injected_request_is_answered_in_the_next_tick(sim):
    with sil.StepLink("127.0.0.1", sim.port) as link:
        link.inject(sil.RevisionRequest(request_id=99))
        link.advance()
        responses = [m for m in link.take() if isinstance(m, sil.RevisionResponse)]
        assert [r.request_id for r in responses] == [99]
        with pytest.raises(TypeError, match="message object"):
            link.inject(b"\x01\x00")


def test_a_long_advance_is_cut_to_what_the_receive_buffer_holds_and_loses_nothing(sim):
    # The smallest buffer the kernel grants: a few ticks' datagrams at a time.
    with sil.StepLink("127.0.0.1", sim.port, receive_buffer=4096) as link:
        link.advance(3000)
        assert link.chunk_ticks < 3000
        messages = link.take()
        assert link.tick == 3000
        assert sum(isinstance(m, sil.PlantTemperature) for m in messages) == 3000
        assert link.undecodable == []


@pytest.mark.parametrize("ticks", [0, -1])
def test_advance_needs_at_least_one_tick(sim, ticks):
    with sil.StepLink("127.0.0.1", sim.port) as link:
        with pytest.raises(ValueError, match="ticks >= 1"):
            link.advance(ticks)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf")])
def test_the_timeout_must_be_a_positive_number_of_seconds(sim, bad):
    with pytest.raises(ValueError, match="timeout"):
        sil.StepLink("127.0.0.1", sim.port, wall_timeout=bad)


def test_a_closed_link_says_so(sim):
    link = sil.StepLink("127.0.0.1", sim.port)
    link.close()
    assert link.closed and "closed" in repr(link)
    with pytest.raises(ValueError, match="closed"):
        link.advance()


def test_a_sim_on_another_clock_is_refused(sil_sim_path):
    with sil.SimProcess(sil_sim_path, ["--clock", "realtime", "--port", "0"]) as process:
        with pytest.raises(ValueError, match="realtime clock"):
            sil.StepLink("127.0.0.1", process.port)


def test_a_sim_that_exits_is_reported_not_waited_for(sil_sim_path):
    with sil.SimProcess(sil_sim_path, SIM_ARGS) as process:
        link = sil.StepLink("127.0.0.1", process.port, wall_timeout=20)
        link.advance()
    # "nothing listens": the refusal is reported as such, not waited out as a 20 s silence.
    with pytest.raises(sil.SimHungError, match="nothing listens"):
        link.advance()
    link.close()


# -- a scripted sim ----------------------------------------------------------

def reply(sequence: int, **result) -> bytes:
    return b"\xf1\xff" + pb.Reply(sequence=sequence, tick=1, sim_time_ns=10_000_000, **result).SerializeToString()


def ready(sequence: int, clock: str = "step", catalogue_hash: int = sil.catalogue_hash) -> bytes:
    return reply(sequence, ready=pb.Ready(clock=clock, rate_hz=100, catalogue_hash=catalogue_hash))


class FakeSim:
    """A UDP socket on loopback and a thread that answers each request with
    what answer(request) returns: a list of datagrams to send back. Stops
    after `seconds` whatever happens."""

    def __init__(self, answer, seconds: float = 10.0) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.requests: list[pb.Request] = []
        self.answer = answer
        self.deadline = time.monotonic() + seconds
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while time.monotonic() < self.deadline:
            try:
                data, sender = self.sock.recvfrom(65536)
            except (socket.timeout, OSError):
                continue
            if data[:2] != b"\xf0\xff":
                continue
            request = pb.Request.FromString(data[2:])
            self.requests.append(request)
            for datagram in self.answer(request):
                self.sock.sendto(datagram, sender)

    def close(self) -> None:
        self.deadline = 0
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def fake():
    made = []

    def make(answer, seconds: float = 10.0) -> FakeSim:
        made.append(FakeSim(answer, seconds))
        return made[-1]

    yield make
    for f in made:
        f.close()


def step_sim(on_advance):
    """Answers Hello with Ready; Advance with on_advance(request)."""
    return lambda r: [ready(r.sequence)] if r.WhichOneof("command") == "hello" else on_advance(r)


def test_hello_is_sent_again_when_its_reply_is_lost(fake):
    seen = []

    def answer(request):
        seen.append(request.sequence)
        return [ready(request.sequence)] if len(seen) >= 2 else []  # the first Hello "is lost"

    sim = fake(answer)
    with sil.StepLink("127.0.0.1", sim.port, wall_timeout=5) as link:
        assert link.ready.clock == "step"
    assert len(seen) >= 2


def test_no_reply_raises_sim_hung_after_the_timeout(fake):
    sim = fake(step_sim(lambda r: []))
    with sil.StepLink("127.0.0.1", sim.port, wall_timeout=0.5) as link:
        started = time.monotonic()
        with pytest.raises(sil.SimHungError, match=r"no reply to Advance\(ticks=1\) within 0.5 s"):
            link.advance()
        assert time.monotonic() - started >= 0.5, "not before the timeout"


def test_a_signal_interrupts_the_wait_and_its_handler_runs(fake):
    # The wait runs in C++ without the GIL; a signal must still reach
    # Python (as Ctrl-C would) instead of waiting out the 30 s timeout.
    class Interrupted(Exception):
        pass

    def handler(signum, frame):
        raise Interrupted

    sim = fake(step_sim(lambda r: []))
    previous = signal.signal(signal.SIGALRM, handler)
    try:
        with sil.StepLink("127.0.0.1", sim.port, wall_timeout=30) as link:
            signal.setitimer(signal.ITIMER_REAL, 0.2)
            with pytest.raises(Interrupted):
                link.advance()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_a_signal_delivered_to_another_thread_still_interrupts_the_wait(fake):
    # The kernel may deliver a process signal to any thread that does not
    # block it (here: only the other one), and Python runs the handler
    # only when the main thread checks: the wait must check on its own.
    class Interrupted(Exception):
        pass

    def handler(signum, frame):
        raise Interrupted

    sim = fake(step_sim(lambda r: []))
    other = threading.Thread(target=threading.Event().wait, args=(5.0,), daemon=True)
    previous = signal.signal(signal.SIGALRM, handler)
    try:
        with sil.StepLink("127.0.0.1", sim.port, wall_timeout=30) as link:
            other.start()  # with SIGALRM unblocked, as this thread has it now
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
            signal.setitimer(signal.ITIMER_REAL, 0.2)
            with pytest.raises(Interrupted):
                link.advance()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGALRM})
        signal.signal(signal.SIGALRM, previous)


def test_nothing_answering_hello_raises_sim_hung(fake):
    sim = fake(lambda r: [])
    with pytest.raises(sil.SimHungError, match="no reply to Hello"):
        sil.StepLink("127.0.0.1", sim.port, wall_timeout=0.5)


def test_an_error_reply_raises_control_error_with_its_code(fake):
    error = pb.Error(code=pb.Error.WRONG_CLOCK, message="advance needs the step clock")
    sim = fake(step_sim(lambda r: [reply(r.sequence, error=error)]))
    with sil.StepLink("127.0.0.1", sim.port) as link:
        with pytest.raises(sil.ControlError) as raised:
            link.advance()
        assert raised.value.code == "WRONG_CLOCK" and "step clock" in raised.value.detail


def test_a_reply_that_ran_other_ticks_is_a_protocol_error(fake):
    sim = fake(step_sim(lambda r: [reply(r.sequence, advanced=pb.Advanced(ticks_run=r.advance.ticks + 1))]))
    with sil.StepLink("127.0.0.1", sim.port) as link:
        with pytest.raises(sil.ControlError, match="PROTOCOL"):
            link.advance()


def test_stale_and_garbled_datagrams_are_skipped_and_kept_for_inspection(fake):
    beat = sil.encode(sil.Heartbeat(sequence=1, tick=0, sim_time_ns=0))
    garbage = [b"\x01", b"\x39\x30" + b"x" * 5, b"\xf1\xff\xff\xff\xff", b"\xf2\xff\x09\x00ab"]

    def on_advance(r):
        return [*garbage, reply(r.sequence - 1, advanced=pb.Advanced(ticks_run=1)), beat,
                reply(r.sequence, advanced=pb.Advanced(ticks_run=1))]

    sim = fake(step_sim(on_advance))
    with sil.StepLink("127.0.0.1", sim.port) as link:
        link.advance()
        assert link.tick == 1
        assert link.take() == [sil.Heartbeat(sequence=1, tick=0, sim_time_ns=0)]
        reasons = [reason for _, reason in link.undecodable]
        assert reasons == ["malformed control reply", "bundle cut_item", "too_short", "unknown_id"]
        assert [data for data, _ in link.undecodable][0] == garbage[2]


def test_a_reply_inside_a_bundle_ends_the_wait_and_later_replies_cannot_replace_it(fake):
    def bundle(*items):
        return struct.pack("<H", sil.BUNDLE_ID) + b"".join(struct.pack("<H", len(i)) + i for i in items)

    beat = sil.encode(sil.Heartbeat(sequence=2, tick=0, sim_time_ns=0))

    def on_advance(r):
        good = reply(r.sequence, advanced=pb.Advanced(ticks_run=1))
        later = b"\xf1\xff" + pb.Reply(sequence=r.sequence, tick=99, advanced=pb.Advanced(ticks_run=1)) \
            .SerializeToString()
        return [bundle(beat, good, later)]

    sim = fake(step_sim(on_advance))
    with sil.StepLink("127.0.0.1", sim.port) as link:
        link.advance()
        assert link.tick == 1
        assert link.take() == [sil.Heartbeat(sequence=2, tick=0, sim_time_ns=0)]
        assert link.bundles == 1


def test_a_sim_with_another_catalogue_is_refused(fake):
    sim = fake(lambda r: [ready(r.sequence, catalogue_hash=sil.catalogue_hash ^ 1)])
    with pytest.raises(sil.CatalogueMismatchError, match="different message catalogue"):
        sil.StepLink("127.0.0.1", sim.port)


def test_the_link_and_the_process_target_share_one_chunking_policy():
    budget = sil._core.RxBudget(425_984)
    first = budget.chunk_ticks()
    budget.learn(100 * sil._core.RxBudget.cost(60_000), 100)  # busy ticks: far fewer per Advance
    assert budget.chunk_ticks() < first
    assert sil._core.RxBudget.cost(100) > 100
    assert sil._core.RxBudget(0).chunk_ticks() == 1
