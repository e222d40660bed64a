"""The sim publishes a Heartbeat every 100 ms of simulated time."""

import pytest

from sil import Heartbeat

PERIOD_NS = 100_000_000


@pytest.mark.network
def test_no_telemetry_before_the_harness_speaks(sim, sil_client):
    # The sim sends only to a peer that has sent it a valid datagram.
    assert sil_client.collect(0.3) == []


def test_heartbeats_count_up_every_100_ms_of_sim_time(sil):
    rate_hz = sil.rate_hz
    if (PERIOD_NS * rate_hz) % 1_000_000_000:
        pytest.skip(f"at {rate_hz} Hz a heartbeat cannot fall exactly every 100 ms")

    beats = [sil.expect(Heartbeat, within=sil.ms(200)) for _ in range(5)]

    for previous, current in zip(beats, beats[1:]):
        assert current.sequence == previous.sequence + 1, beats
        assert current.sim_time_ns - previous.sim_time_ns == PERIOD_NS, beats
    for beat in beats:
        assert beat.sim_time_ns == beat.tick * 1_000_000_000 // rate_hz, beat
        assert beat.sim_time_ns == beat.sequence * PERIOD_NS, beat
        # The time it carries is the time it was published at.
        assert sil.time_of(beat) == beat.sim_time_ns, beat


def test_nothing_between_two_heartbeats_and_the_next_one_on_time(sil):
    if (PERIOD_NS * sil.rate_hz) % 1_000_000_000:
        pytest.skip(f"at {sil.rate_hz} Hz a heartbeat cannot fall exactly every 100 ms")
    first = sil.expect(Heartbeat, within=sil.ms(100))
    # Run every tick before the next one is due, then that one tick.
    ticks_before_next = (first.sim_time_ns + PERIOD_NS - sil.now_ns) // sil.period_ns
    sil.advance(ticks=ticks_before_next)
    assert sil.history(Heartbeat) == [first], "a heartbeat came early"

    following = sil.expect(Heartbeat, within=sil.ns(sil.period_ns))
    assert following.sequence == first.sequence + 1
    assert sil.time_of(following) == first.sim_time_ns + PERIOD_NS
