"""The same scenario run twice under the step clock publishes the identical
sequence of (simulated time, MsgId, payload bytes): as the harness sees it,
and as the sim's own trace digest (every publication, injections included)
sums it up. Inputs are injected at fixed ticks into a system with periodic
services (Heartbeat every 100 ms, the thermal plant every tick, the
thermostat and fault monitor reacting to it)."""

import pytest

from sil import HeaterCommand, InprocTarget, ProcessTarget, RevisionRequest, SetPoint

TICKS = 8000  # 80 s of simulated time at 100 Hz: heating, a fault at ~38 s, cooling, the clear at ~58 s
# tick -> what is injected at the boundary before that tick
INPUTS = {
    0: [SetPoint(setpoint_c=60.0)],
    5: [SetPoint(setpoint_c=61.5), SetPoint(setpoint_c=150.0)],       # two in one boundary, in order
    1200: [HeaterCommand(power_w=0.0)],                              # overridden by the next decision
    1201: [HeaterCommand(power_w=1e9)],                              # clamped by the plant
    4000: [SetPoint(setpoint_c=float("nan")), SetPoint(setpoint_c=30.0)],  # rejected, then accepted
}
WITH_REQUESTS = {**INPUTS, 7: [RevisionRequest(request_id=7)], TICKS - 1: [RevisionRequest(request_id=TICKS)]}


def drive(target, inputs, *, step_ticks=1):
    """Runs the inputs; returns (what the harness saw, the sim's stats)."""
    tick = 0
    while tick < TICKS:
        for message in inputs.get(tick, []):
            target.inject(message)
        # Up to the next input, in steps of step_ticks.
        upcoming = min([t for t in inputs if t > tick] + [TICKS])
        count = min(step_ticks, upcoming - tick)
        target.advance(ticks=count)
        tick += count
    records = target.records()
    stats = target.stats()
    return [(r.sim_time_ns, r.msg_id, r.payload) for r in records], stats


def assert_same_run(first, second):
    (trace_a, stats_a), (trace_b, stats_b) = first, second
    assert len(trace_a) == len(trace_b)
    for index, (a, b) in enumerate(zip(trace_a, trace_b)):
        assert a == b, f"publication {index} differs: {a} vs {b}"
    assert stats_a.trace_count == stats_b.trace_count
    assert stats_a.trace_digest == stats_b.trace_digest
    assert stats_a.published == stats_b.published


def check_scenario_exercised(run):
    trace, stats = run
    # Every publication's time is exact: the harness advanced one tick at a time.
    assert all(time_ns is not None for time_ns, _id, _payload in trace)
    assert stats.ticks == TICKS
    assert stats.published["OverTemperatureFault"] == 2, "the scenario should raise and clear the fault"
    assert stats.published["SetPoint"] == 5 and stats.published["HeaterCommand"] == TICKS + 2
    # The injections are on the bus (in the digest) but not echoed to the harness.
    seen = {msg_id for _time, msg_id, _payload in trace}
    assert int(SetPoint.ID) not in seen


@pytest.fixture
def launch(sil_sim_path, tmp_path):
    targets = []

    def launch_one(**options):
        target = ProcessTarget(sil_sim_path, clock="step", log_dir=tmp_path, **options)
        targets.append(target)
        return target

    yield launch_one
    for target in targets:
        assert target.close() == 0


def test_process_step_clock_twice_gives_the_identical_run(launch):
    first = drive(launch(), WITH_REQUESTS)
    second = drive(launch(), WITH_REQUESTS)
    check_scenario_exercised(first)
    assert_same_run(first, second)


def test_egress_modes_and_bundles_deliver_the_identical_run(launch):
    # Batching and bundles change how many syscalls and datagrams carry the
    # messages, never which ones the harness sees, in what order, or at what
    # simulated time.
    per_message = launch(egress="per-message")
    unbundled = launch(egress="batched", bundle_bytes=0)
    bundled = launch(egress="batched")  # the default: bundles as large as loopback allows
    small = launch(egress="batched", bundle_bytes=71)  # the least granted: a tick with a Heartbeat needs two
    runs = [drive(target, WITH_REQUESTS) for target in (per_message, unbundled, bundled, small)]
    check_scenario_exercised(runs[0])
    for run in runs[1:]:
        assert_same_run(runs[0], run)
    assert per_message.ready.bundle_bytes == 0 and per_message.bundles == 0, "per-message egress copies nothing"
    assert unbundled.ready.bundle_bytes == 0 and unbundled.bundles == 0
    assert bundled.ready.bundle_bytes == 65507
    assert small.ready.bundle_bytes == 71
    # Every tick publishes a HeaterCommand, so every advance ends in a bundle
    # holding the tick's messages and the reply; with 71 bytes, some in two.
    assert bundled.bundles >= TICKS
    assert small.bundles > bundled.bundles


def test_inproc_twice_gives_the_identical_run():
    first = drive(InprocTarget(), WITH_REQUESTS)
    second = drive(InprocTarget(), WITH_REQUESTS)
    check_scenario_exercised(first)
    assert_same_run(first, second)


def test_inproc_and_process_publish_the_same_run(launch):
    # RevisionResponses included: both binaries of one build carry the same
    # build facts (services/build_info.cmake).
    assert_same_run(drive(InprocTarget(), WITH_REQUESTS), drive(launch(), WITH_REQUESTS))


def test_how_time_is_cut_into_advances_does_not_change_the_run(launch):
    one_by_one = drive(InprocTarget(), INPUTS)
    _trace, coarse_stats = drive(launch(), INPUTS, step_ticks=700)
    assert coarse_stats.trace_digest == one_by_one[1].trace_digest
    assert coarse_stats.trace_count == one_by_one[1].trace_count


def test_one_input_one_tick_later_gives_a_different_run():
    # The comparison above can fail: moving a single input by one tick changes it.
    moved = dict(INPUTS)
    moved[1201], moved[1202] = [], moved[1201]
    assert drive(InprocTarget(), moved)[1].trace_digest != drive(InprocTarget(), INPUTS)[1].trace_digest
