"""The sim publishes a Heartbeat every 100 ms of simulated time."""

import pytest

from sil import Heartbeat

PERIOD_NS = 100_000_000


def test_no_telemetry_before_the_harness_speaks(sim, sil_client):
    # The sim sends only to a peer that has sent it a valid datagram.
    assert sil_client.collect(0.3) == []


def test_heartbeats_count_up_every_100_ms_of_sim_time(sim, sil_client):
    rate_hz = sim.ready["rate_hz"]
    if (PERIOD_NS * rate_hz) % 1_000_000_000:
        pytest.skip(f"at {rate_hz} Hz a heartbeat cannot fall exactly every 100 ms")
    sil_client.revision()  # become the peer

    beats = [sil_client.expect(Heartbeat, timeout=2.0) for _ in range(5)]

    for previous, current in zip(beats, beats[1:]):
        assert current.sequence == previous.sequence + 1, beats
        assert current.sim_time_ns - previous.sim_time_ns == PERIOD_NS, beats
    for beat in beats:
        assert beat.sim_time_ns == beat.tick * 1_000_000_000 // rate_hz, beat
        assert beat.sim_time_ns == beat.sequence * PERIOD_NS, beat
