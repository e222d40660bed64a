"""A harness can always ask which build it is talking to."""

import select
import socket
import struct
import time

import pytest

from sil import WIRE_VERSION, RevisionRequest, RevisionResponse, catalogue_hash, decode, message_types


def test_revision_request_is_answered_with_the_running_build(sil):
    response = sil.request(RevisionRequest(request_id=0xC0FFEE), RevisionResponse, within=sil.ms(10))

    assert response.request_id == 0xC0FFEE
    version = tuple(int(part) for part in sil.build["version"].split("."))
    assert (response.version_major, response.version_minor, response.version_patch) == version
    assert response.git_revision != ""
    assert response.git_revision == sil.build["git_revision"]
    assert response.catalogue_hash == catalogue_hash, "the sim was built from a different message catalogue"
    assert response.wire_version == WIRE_VERSION
    assert response.tick_rate_hz == sil.rate_hz
    assert response.build_time_unix > 0


def test_a_request_is_answered_at_once_without_simulated_time_passing(sil):
    before = sil.now_ns
    response = sil.request(RevisionRequest(request_id=5), RevisionResponse, within=sil.ms(10))
    # Answered at the tick boundary the request was injected at.
    assert sil.time_of(response) == before
    assert sil.now_ns == before


def test_every_request_gets_its_own_answer(sil):
    ids = [1, 0xFFFFFFFF, 7, 7, 0]
    for request_id in ids:
        sil.inject(RevisionRequest(request_id=request_id))
    answers = [sil.expect(RevisionResponse, within=sil.ms(10)).request_id for _ in ids]
    assert answers == ids
    assert sil.stats().received == {"RevisionRequest": len(ids)}


@pytest.mark.network
def test_raw_socket_contract(sim):
    """What a harness without the sil package relies on: bytes d0 07 + a
    little-endian u32 bring back one 67-byte datagram d1 07 + that u32."""
    request_id = struct.pack("<I", 0x01020304)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.sendto(b"\xd0\x07" + request_id, ("127.0.0.1", sim.port))

        # Telemetry comes too, now that this socket is the peer. Listen a
        # little beyond the first answer, so a duplicate would be seen.
        responses, others = [], []
        deadline = time.monotonic() + 2.0
        for _ in range(100_000):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([sock], [], [], remaining)[0]:
                break
            data = sock.recv(4096)
            if data[:2] == b"\xd1\x07":
                responses.append(data)
                deadline = min(deadline, time.monotonic() + 0.3)
            else:
                others.append(data)

    assert len(responses) == 1, f"expected exactly one RevisionResponse, got {len(responses)}"
    assert len(responses[0]) == 67
    assert responses[0][2:6] == request_id
    assert all(type(decode(data)) in message_types() for data in others), others
