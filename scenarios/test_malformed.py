"""Garbage on the sim's port is dropped and counted, and never stops the sim."""

import collections
import random
import socket
import struct

import pytest

import sil
from sil import Heartbeat, RevisionResponse

SEED = 20261122
FLOOD_SIZE = 10_000
# A batch always fits in the sim's socket receive buffer (default ~208 KiB,
# 16 datagrams of at most 2000 bytes), so the kernel never drops one before
# the sim has seen and counted it.
BATCH = 16
DROP_VERDICTS = ("too_short", "unknown_id", "wrong_size", "truncated")
CATALOGUE_IDS = [int(cls.ID) for cls in sil.message_types()]
UNKNOWN_ID = next(i for i in range(0xFFFF, 0, -1) if i not in CATALOGUE_IDS)


def random_datagram(rng: random.Random) -> bytes:
    msg_id = rng.choice(CATALOGUE_IDS) if rng.random() < 0.5 else rng.randrange(0x10000)
    # Half of the lengths near real message sizes, where wrong_size and the
    # odd accidentally valid datagram come from; half anywhere up to 2000.
    length = rng.randint(0, 2000) if rng.random() < 0.5 else rng.randint(0, sil.MAX_DATAGRAM_SIZE + 4)
    return (struct.pack("<H", msg_id) + rng.randbytes(max(length - 2, 0)))[:length]


def verdict_of(datagram: bytes) -> str:
    try:
        sil.decode(datagram)
    except sil.DecodeError as error:
        return error.verdict
    return "accepted"


def rx_counts(sim) -> dict:
    """The receive counters sil-sim reports as it stops."""
    report = sim.stopped_report()
    assert report is not None, f"sil-sim reported no counters:\n{sim.stderr_text()}"
    return report["rx"]


def test_sim_survives_ten_thousand_random_datagrams(sim, sil_client):
    rng = random.Random(SEED)
    sent = collections.Counter()
    requests = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as attacker:
        attacker.bind(("127.0.0.1", 0))
        for start in range(0, FLOOD_SIZE, BATCH):
            for _ in range(min(BATCH, FLOOD_SIZE - start)):
                datagram = random_datagram(rng)
                attacker.sendto(datagram, ("127.0.0.1", sim.port))
                sent[verdict_of(datagram)] += 1
            # The sim reads its socket in order: this answer means it has
            # read the batch, so the next one finds the buffer empty.
            sil_client.revision(timeout=5.0)
            requests += 1

    assert sim.is_running()
    response = sil_client.revision()
    requests += 1
    assert response.catalogue_hash == sil.catalogue_hash

    assert all(sent[verdict] > 0 for verdict in DROP_VERDICTS), f"the flood missed a verdict: {sent}"
    assert sim.stop() == 0
    # Every datagram was seen and judged exactly as sil.decode judges it.
    assert rx_counts(sim) == {
        "accepted": sent["accepted"] + requests,
        **{verdict: sent[verdict] for verdict in DROP_VERDICTS},
    }


def _named_cases():
    cases = [
        pytest.param(b"", "too_short", id="empty"),
        pytest.param(b"\xd0", "too_short", id="one-byte"),
        pytest.param(struct.pack("<H", UNKNOWN_ID) + bytes(4), "unknown_id", id="unknown-id"),
        pytest.param(b"\xd0\x07" + bytes(sil.MAX_DATAGRAM_SIZE), "truncated", id="oversized"),
    ]
    for cls in sil.message_types():
        header = struct.pack("<H", int(cls.ID))
        cases.append(pytest.param(header + bytes(cls.SIZE - 1), "wrong_size", id=f"{cls.__name__}-size-1"))
        # One byte over the largest message is more than the sim reads at all.
        longer = header + bytes(cls.SIZE + 1)
        expected = "truncated" if len(longer) > sil.MAX_DATAGRAM_SIZE else "wrong_size"
        cases.append(pytest.param(longer, expected, id=f"{cls.__name__}-size+1"))
    return cases


@pytest.mark.parametrize("datagram, verdict", _named_cases())
def test_malformed_datagram_is_dropped_and_counted(sim, sil_client, datagram, verdict):
    assert verdict_of(datagram) == verdict
    sil_client.revision()
    sil_client.send_raw(datagram)
    assert sil_client.revision().catalogue_hash == sil.catalogue_hash
    assert sim.is_running()
    # The sim answers only valid requests; the bad datagram got no reply.
    assert set(sil_client.counts()) <= {cls.__name__ for cls in sil.message_types()}
    assert len(sil_client.history(RevisionResponse)) == 2

    assert sim.stop() == 0
    expected = {name: 0 for name in DROP_VERDICTS}
    expected.update(accepted=2, **{verdict: 1})
    assert rx_counts(sim) == expected
