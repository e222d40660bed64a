"""A harness can always ask which build it is talking to."""

import select
import socket
import struct
import time

import sil
from sil import RevisionRequest, RevisionResponse


def test_revision_request_is_answered_with_the_running_build(sim, sil_client):
    response = sil_client.request(RevisionRequest(request_id=0xC0FFEE), RevisionResponse, timeout=2.0)

    assert response.request_id == 0xC0FFEE
    version = tuple(int(part) for part in sim.ready["version"].split("."))
    assert (response.version_major, response.version_minor, response.version_patch) == version
    assert response.git_revision != ""
    assert response.git_revision == sim.ready["git_revision"]
    assert response.catalogue_hash == sil.catalogue_hash, "the sim was built from a different message catalogue"
    assert response.wire_version == sil.WIRE_VERSION
    assert response.tick_rate_hz == sim.ready["rate_hz"]
    assert response.build_time_unix > 0


def test_every_request_gets_its_own_answer(sim, sil_client):
    ids = [1, 0xFFFFFFFF, 7, 7, 0]
    for request_id in ids:
        sil_client.send(RevisionRequest(request_id=request_id))
    answers = [sil_client.expect(RevisionResponse, timeout=2.0).request_id for _ in ids]
    assert answers == ids


def test_raw_socket_contract(sim):
    """What a harness without the sil package relies on: bytes d0 07 + a
    little-endian u32 bring back one 67-byte datagram d1 07 + that u32."""
    request_id = struct.pack("<I", 0x01020304)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.sendto(b"\xd0\x07" + request_id, ("127.0.0.1", sim.port))

        # Heartbeats come too, now that this socket is the peer. Listen a
        # little beyond the first answer, so a duplicate would be seen.
        responses, others = [], []
        deadline = time.monotonic() + 2.0
        for _ in range(1000):
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
    assert all(type(sil.decode(data)) in sil.message_types() for data in others), others
