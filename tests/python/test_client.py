"""SimClient against a fake sim: a plain socket in the test plays the sim, so
what arrives and when is under the test's control."""

import socket
import time

import pytest

import sil
from sil import Heartbeat, RevisionRequest, RevisionResponse, SilTimeout, SimClient


@pytest.fixture
def fake_sim():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(2.0)
        yield sock


@pytest.fixture
def client(fake_sim):
    with SimClient("127.0.0.1", fake_sim.getsockname()[1], wall_timeout=1.0) as client:
        yield client


def _send(fake_sim, client, *messages):
    for msg in messages:
        data = msg if isinstance(msg, bytes) else sil.encode(msg)
        fake_sim.sendto(data, client.local_address)


def test_send_puts_one_datagram_on_the_wire(fake_sim, client):
    client.send(RevisionRequest(request_id=5))
    data, source = fake_sim.recvfrom(4096)
    assert data == b"\xd0\x07\x05\x00\x00\x00"
    assert source == client.local_address
    client.inject(Heartbeat.zero(sequence=1))
    assert sil.decode(fake_sim.recv(4096)) == Heartbeat.zero(sequence=1)


def test_client_binds_to_loopback_by_default(client):
    assert client.local_address[0] == "127.0.0.1"


def test_request_returns_the_response_with_its_request_id_and_keeps_the_rest(fake_sim, client):
    _send(fake_sim, client,
          Heartbeat.zero(sequence=1),
          RevisionResponse.zero(request_id=6),   # someone else's answer
          Heartbeat.zero(sequence=2),
          RevisionResponse.zero(request_id=7, tick_rate_hz=100))
    response = client.request(RevisionRequest(request_id=7), RevisionResponse)
    assert response == RevisionResponse.zero(request_id=7, tick_rate_hz=100)
    assert sil.decode(fake_sim.recv(4096)) == RevisionRequest(request_id=7)
    # Nothing that arrived meanwhile is lost: it is in the history and can still be expected.
    assert [type(m).__name__ for m in client.history()] == [
        "Heartbeat", "RevisionResponse", "Heartbeat", "RevisionResponse"]
    assert client.expect(RevisionResponse).request_id == 6
    assert client.expect(Heartbeat).sequence == 1
    assert client.expect(Heartbeat).sequence == 2


def test_expect_checks_buffered_messages_before_waiting(fake_sim, client):
    _send(fake_sim, client, Heartbeat.zero(sequence=1), Heartbeat.zero(sequence=2), Heartbeat.zero(sequence=3))
    assert client.expect(Heartbeat, lambda hb: hb.sequence == 3).sequence == 3
    # The wait above buffered 1 and 2; they come back without the fake sim sending anything.
    assert client.expect(Heartbeat, wall_timeout=0).sequence == 1
    assert client.expect(Heartbeat, wall_timeout=0).sequence == 2
    with pytest.raises(SilTimeout):
        client.expect(Heartbeat, wall_timeout=0)


def test_a_message_is_returned_once(fake_sim, client):
    _send(fake_sim, client, Heartbeat.zero(sequence=1))
    assert client.expect(Heartbeat).sequence == 1
    with pytest.raises(SilTimeout):
        client.expect(Heartbeat, wall_timeout=0.05)
    assert len(client.history(Heartbeat)) == 1


def test_timeout_names_what_was_awaited_and_what_came_instead(fake_sim, client):
    _send(fake_sim, client, Heartbeat.zero(sequence=1), Heartbeat.zero(sequence=2), RevisionResponse.zero(request_id=3), b"\x01")
    start = time.monotonic()
    with pytest.raises(SilTimeout) as error:
        client.request(RevisionRequest(request_id=4), RevisionResponse, wall_timeout=0.2)
    elapsed = time.monotonic() - start
    assert 0.2 <= elapsed < 1.5
    text = str(error.value)
    assert "RevisionResponse with request_id == 4" in text
    assert "0.2 s" in text
    assert "2 x Heartbeat" in text and "1 x RevisionResponse" in text and "1 undecodable" in text
    assert "RevisionResponse(request_id=3" in text
    assert isinstance(error.value, AssertionError)


def test_timeout_with_nothing_received_hints_at_the_peer_rule(client):
    with pytest.raises(SilTimeout, match="nothing arrived.*valid datagram"):
        client.expect(Heartbeat, wall_timeout=0.05)


def test_timeout_describes_a_lambda_predicate_by_location(client):
    with pytest.raises(SilTimeout, match=r"Heartbeat with predicate <lambda> at .*test_client\.py:\d+"):
        client.expect(Heartbeat, lambda hb: hb.sequence > 3, wall_timeout=0.01)


def test_undecodable_datagrams_are_kept_not_raised(fake_sim, client):
    bad = [b"", b"\x01", b"\xd0\x07\x00", b"\xff\xff\x00\x00", b"\xd0\x07" + bytes(3000)]
    _send(fake_sim, client, *bad, Heartbeat.zero(sequence=9))
    assert client.expect(Heartbeat).sequence == 9
    assert [data for data, _error in client.undecodable] == bad
    assert [error.verdict for _data, error in client.undecodable] == [
        "too_short", "too_short", "wrong_size", "unknown_id", "truncated"]
    assert client.history() == [Heartbeat.zero(sequence=9)]


def test_datagrams_from_anyone_but_the_sim_are_ignored(fake_sim, client):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:
        stranger.bind(("127.0.0.1", 0))
        stranger.sendto(sil.encode(Heartbeat.zero(sequence=1)), client.local_address)
    _send(fake_sim, client, Heartbeat.zero(sequence=2))
    assert client.expect(Heartbeat).sequence == 2
    assert client.history() == [Heartbeat.zero(sequence=2)]


def test_collect_returns_what_arrives_in_the_window(fake_sim, client):
    _send(fake_sim, client, Heartbeat.zero(sequence=1), RevisionResponse.zero(request_id=1))
    assert client.collect(0.1, Heartbeat) == [Heartbeat.zero(sequence=1)]
    assert client.collect(0.05) == []
    assert client.expect(RevisionResponse, wall_timeout=0).request_id == 1


def test_drain_consumes_everything_buffered(fake_sim, client):
    _send(fake_sim, client, Heartbeat.zero(sequence=1))
    assert client.collect(0.05) == [Heartbeat.zero(sequence=1)]
    _send(fake_sim, client, Heartbeat.zero(sequence=2), Heartbeat.zero(sequence=3))
    with pytest.raises(SilTimeout):
        client.expect(RevisionResponse, wall_timeout=0.05)  # buffers 2 and 3
    assert client.drain() == [Heartbeat.zero(sequence=2), Heartbeat.zero(sequence=3)]
    assert client.drain() == []
    assert client.counts() == {"Heartbeat": 3}


def test_revision_uses_fresh_request_ids(fake_sim, client):
    _send(fake_sim, client, RevisionResponse.zero(request_id=1), RevisionResponse.zero(request_id=2))
    assert client.revision().request_id == 1
    assert client.revision().request_id == 2
    assert [sil.decode(fake_sim.recv(64)).request_id for _ in range(2)] == [1, 2]


def test_a_sim_that_is_gone_is_reported_as_refused():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with SimClient("127.0.0.1", port) as client:
        client.send(RevisionRequest(request_id=1))
        with pytest.raises(ConnectionRefusedError, match=f"nothing listens at 127.0.0.1:{port}"):
            client.expect(RevisionResponse, wall_timeout=1.0)


def test_close_is_idempotent_and_context_manager_closes(fake_sim):
    client = SimClient("127.0.0.1", fake_sim.getsockname()[1])
    with client:
        pass
    client.close()
    with pytest.raises(OSError):
        client.send(RevisionRequest.zero())


def test_request_needs_request_id_on_both_sides(client):
    with pytest.raises(TypeError, match="the response type Heartbeat has no request_id field"):
        client.request(RevisionRequest(request_id=1), Heartbeat)
    with pytest.raises(TypeError, match="the request Heartbeat has no request_id field"):
        client.request(Heartbeat.zero(), RevisionResponse)


def test_a_decoder_reads_messages_from_the_sims_catalogue(fake_sim):
    from sil.catalogue import Catalogue, Decoder, FieldInfo, MessageInfo

    extra = MessageInfo(2999, "Extra", 2, (FieldInfo("value", "u16", 0, 2, 1),))
    decoder = Decoder(Catalogue([*Catalogue.local(), extra]))
    with SimClient("127.0.0.1", fake_sim.getsockname()[1], wall_timeout=1.0, decoder=decoder) as client:
        _send(fake_sim, client, b"\xb7\x0b\x05\x00", Heartbeat.zero(sequence=4), b"\xb7\x0b\x05")
        assert client.expect(decoder.Extra).value == 5
        assert client.expect(Heartbeat).sequence == 4
        client.drain()
        assert [error.verdict for _data, error in client.undecodable] == ["wrong_size"]
