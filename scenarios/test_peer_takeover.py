"""Telemetry goes to whichever harness sent the last valid datagram. About
sockets and peers, so only against a real sil-sim (realtime clock)."""

import pytest

from sil import Heartbeat

pytestmark = pytest.mark.network


def test_second_harness_takes_over_the_telemetry(sil_client, sil_client_factory):
    first = sil_client
    first.revision()
    before = first.expect(Heartbeat, wall_timeout=2.0)

    second = sil_client_factory()
    second.revision()
    # Once the second harness has its answer and a heartbeat, the sim has
    # switched peers; anything still owed to the first was sent before that
    # and is already in the first's socket.
    after = second.expect(Heartbeat, wall_timeout=2.0)
    first.drain()

    assert after.sequence > before.sequence
    later = [second.expect(Heartbeat, wall_timeout=2.0) for _ in range(3)]
    assert [hb.sequence for hb in later] == list(range(after.sequence + 1, after.sequence + 4))
    # Three heartbeats went out after the switch; none of them reached the first.
    assert first.collect(0.1) == [], "the first harness still receives after the takeover"


def test_first_harness_can_take_the_telemetry_back(sil_client, sil_client_factory):
    first, second = sil_client, sil_client_factory()
    first.revision()
    second.revision()
    second.expect(Heartbeat, wall_timeout=2.0)

    first.revision()
    first.expect(Heartbeat, wall_timeout=2.0)
    second.drain()

    later = [first.expect(Heartbeat, wall_timeout=2.0) for _ in range(2)]
    assert later[1].sequence == later[0].sequence + 1
    assert second.collect(0.1) == []
