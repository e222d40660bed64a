"""Garbage on the sim's input is dropped and counted, and never stops the sim.

inject_raw() hands bytes to the sim exactly as a datagram from the network:
over a socket on the process target, through the same decoder in-process."""

import collections
import random
import struct

import pytest

from sil import (
    MAX_DATAGRAM_SIZE,
    DecodeError,
    RevisionRequest,
    RevisionResponse,
    catalogue_hash,
    decode,
    message_types,
)

SEED = 20261122
FLOOD_SIZE = 10_000
# A batch always fits in the sim's socket receive buffer (default ~208 KiB,
# 16 datagrams of at most 2000 bytes), so the kernel never drops one before
# the sim has seen and counted it.
BATCH = 16
DROP_VERDICTS = ("too_short", "unknown_id", "wrong_size", "truncated")
CATALOGUE_IDS = [int(cls.ID) for cls in message_types()]
UNKNOWN_ID = next(i for i in range(0xFEFF, 0, -1) if i not in CATALOGUE_IDS)
# 0xFFF0 is the control plane's: the sim parses it as a request, not a message.
CONTROL_REQUEST_ID = 0xFFF0


def random_datagram(rng: random.Random) -> bytes:
    msg_id = CONTROL_REQUEST_ID
    while msg_id == CONTROL_REQUEST_ID:
        msg_id = rng.choice(CATALOGUE_IDS) if rng.random() < 0.5 else rng.randrange(0x10000)
    # Half of the lengths near real message sizes, where wrong_size and the
    # odd accidentally valid datagram come from; half anywhere up to 2000.
    length = rng.randint(0, 2000) if rng.random() < 0.5 else rng.randint(0, MAX_DATAGRAM_SIZE + 4)
    return (struct.pack("<H", msg_id) + rng.randbytes(max(length - 2, 0)))[:length]


def verdict_of(datagram: bytes) -> str:
    try:
        decode(datagram)
    except DecodeError as error:
        return error.verdict
    return "accepted"


def test_sim_survives_ten_thousand_random_datagrams(sil):
    rng = random.Random(SEED)
    sent = collections.Counter()
    requests = 0
    for start in range(0, FLOOD_SIZE, BATCH):
        for _ in range(min(BATCH, FLOOD_SIZE - start)):
            datagram = random_datagram(rng)
            sil.inject_raw(datagram)
            sent[verdict_of(datagram)] += 1
        # Answered in order with the batch: the sim has taken all of it.
        sil.request(RevisionRequest(request_id=start), RevisionResponse, within=sil.ms(10))
        requests += 1
        sil.advance(ticks=1)

    response = sil.request(RevisionRequest(request_id=1), RevisionResponse, within=sil.ms(10))
    requests += 1
    assert response.catalogue_hash == catalogue_hash

    assert all(sent[verdict] > 0 for verdict in DROP_VERDICTS), f"the flood missed a verdict: {sent}"
    stats = sil.stats()
    # Every datagram was judged exactly as sil.decode judges it.
    assert stats.drops == {verdict: sent[verdict] for verdict in DROP_VERDICTS}
    assert sum(stats.received.values()) == sent["accepted"] + requests


def _named_cases():
    cases = [
        pytest.param(b"", "too_short", id="empty"),
        pytest.param(b"\xd0", "too_short", id="one-byte"),
        pytest.param(struct.pack("<H", UNKNOWN_ID) + bytes(4), "unknown_id", id="unknown-id"),
        pytest.param(b"\xd0\x07" + bytes(MAX_DATAGRAM_SIZE), "truncated", id="oversized"),
    ]
    for cls in message_types():
        header = struct.pack("<H", int(cls.ID))
        cases.append(pytest.param(header + bytes(cls.SIZE - 1), "wrong_size", id=f"{cls.__name__}-size-1"))
        # One byte over the largest message is more than the sim reads at all.
        longer = header + bytes(cls.SIZE + 1)
        expected = "truncated" if len(longer) > MAX_DATAGRAM_SIZE else "wrong_size"
        cases.append(pytest.param(longer, expected, id=f"{cls.__name__}-size+1"))
    return cases


@pytest.mark.parametrize("datagram, verdict", _named_cases())
def test_malformed_datagram_is_dropped_and_counted(sil, datagram, verdict):
    assert verdict_of(datagram) == verdict
    sil.request(RevisionRequest(request_id=1), RevisionResponse, within=sil.ms(10))
    sil.inject_raw(datagram)
    assert sil.request(RevisionRequest(request_id=2), RevisionResponse, within=sil.ms(10)).catalogue_hash == \
        catalogue_hash
    sil.advance(ms=100)  # the sim keeps running

    # The sim answers only valid requests; the bad datagram got no reply.
    assert len(sil.history(RevisionResponse)) == 2
    stats = sil.stats()
    expected = {name: 0 for name in DROP_VERDICTS}
    expected[verdict] = 1
    assert stats.drops == expected
    assert stats.received == {"RevisionRequest": 2}
