"""SimClient's own suite again, with ingest() on: every waiting verb then
reads through the Receiver's thread instead of the socket, and must behave
exactly the same."""

import pytest

import sil
from sil import Heartbeat, RevisionRequest, RevisionResponse, SimClient
from test_client import *  # noqa: F401,F403  (the tests; the fixture below replaces theirs)
from test_client import _send


@pytest.fixture
def client(fake_sim):
    with SimClient("127.0.0.1", fake_sim.getsockname()[1], wall_timeout=1.0) as client:
        client.ingest()
        yield client


def test_undecodable_datagrams_are_kept_not_raised(fake_sim, client):
    # As in test_client, except that an oversized datagram is kept as its
    # first MAX_DATAGRAM_SIZE bytes: the ring's slots have that size.
    bad = [b"", b"\x01", b"\xd0\x07\x00", b"\xff\xff\x00\x00", b"\xd0\x07" + bytes(3000)]
    _send(fake_sim, client, *bad, Heartbeat.zero(sequence=9))
    assert client.expect(Heartbeat).sequence == 9
    assert [data for data, _error in client.undecodable] == bad[:4] + [bad[4][:sil.MAX_DATAGRAM_SIZE]]
    assert [(e.verdict, e.length, e.msg_id) for _data, e in client.undecodable] == [
        ("too_short", 0, None), ("too_short", 1, None), ("wrong_size", 3, 2000), ("unknown_id", 4, 0xFFFF),
        ("truncated", 3002, 2000)]
    assert all(isinstance(e, sil.DecodeError) for _data, e in client.undecodable)


def test_bulk_takes_bypass_history_while_expect_still_works(fake_sim, client):
    receiver = client._receiver
    _send(fake_sim, client, *(Heartbeat.zero(sequence=i) for i in range(100)))
    taken = []
    for _ in range(100):  # bounded: each take waits at most 1 s
        taken += receiver.take(1.0)
        if len(taken) == 100:
            break
    assert [m.sequence for m in taken] == list(range(100))
    assert client.history() == []
    _send(fake_sim, client, RevisionResponse.zero(request_id=3))
    assert client.request(RevisionRequest(request_id=3), RevisionResponse).request_id == 3
    assert client.history() == [RevisionResponse.zero(request_id=3)]
    with pytest.raises(RuntimeError, match="already ingests"):
        client.ingest()
    receiver.close()
    client.ingest().close()  # a new one after the first is closed


def test_closing_the_client_closes_its_receiver(fake_sim):
    with SimClient("127.0.0.1", fake_sim.getsockname()[1]) as client:
        receiver = client.ingest()
        assert receiver.running
    assert receiver.closed


def test_waits_across_types_take_the_earliest_and_drain_keeps_arrival_order(fake_sim, client):
    # Unconsumed messages are kept by type; a wait for a base class still
    # gets the earliest of any matching type.
    _send(fake_sim, client, Heartbeat.zero(sequence=1), RevisionResponse.zero(request_id=5), Heartbeat.zero(sequence=2),
          RevisionResponse.zero(request_id=6))
    assert client.expect(RevisionResponse, lambda r: r.request_id == 6) == RevisionResponse.zero(request_id=6)
    assert client.expect(object) == Heartbeat.zero(sequence=1)
    assert "2 unconsumed" in repr(client)
    assert client.drain() == [RevisionResponse.zero(request_id=5), Heartbeat.zero(sequence=2)]
    assert client.drain() == []


def test_a_decoder_reads_messages_from_the_sims_catalogue_through_the_receiver(fake_sim):
    from sil.catalogue import Catalogue, Decoder, FieldInfo, MessageInfo

    extra = MessageInfo(2999, "Extra", 2, (FieldInfo("value", "u16", 0, 2, 1),))
    decoder = Decoder(Catalogue([*Catalogue.local(), extra]))
    with SimClient("127.0.0.1", fake_sim.getsockname()[1], wall_timeout=1.0, decoder=decoder) as client:
        receiver = client.ingest()
        _send(fake_sim, client, b"\xb7\x0b\x05\x00", Heartbeat.zero(sequence=4), b"\xb7\x0b\x05")
        assert client.expect(decoder.Extra).value == 5
        assert client.expect(Heartbeat).sequence == 4
        client.drain()
        assert [error.verdict for _data, error in client.undecodable] == ["wrong_size"]
        assert receiver.stats()["delivered"] == 3
