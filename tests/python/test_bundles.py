"""sil.unbundle: the harness side of bundles (docs/wire-format.md "Bundles"), through the
same C++ reader the project's own tests use, so Python and C++ agree on
what a bundle is. What a sim sends under bundles is compared with what it
sends without them in test_determinism.py."""

import struct

import pytest

import sil
from sil import DecodeError, Heartbeat, encode, unbundle


def bundle(*items: bytes) -> bytes:
    return struct.pack("<H", sil.BUNDLE_ID) + b"".join(struct.pack("<H", len(item)) + item for item in items)


def test_a_bundle_opens_into_its_datagrams_in_order():
    first = encode(Heartbeat(sequence=1, tick=10, sim_time_ns=100))
    second = b"\xf1\xff" + b"reply bytes"
    assert unbundle(bundle(first, second)) == [first, second]
    assert sil.decode(unbundle(bundle(first))[0]) == Heartbeat(sequence=1, tick=10, sim_time_ns=100)


def test_any_bytes_like_object_will_do():
    data = bundle(b"\xd2\x07\x01")
    assert unbundle(memoryview(bytearray(data))) == [b"\xd2\x07\x01"]


@pytest.mark.parametrize("data, verdict", [
    (b"", "not_a_bundle"),
    (b"\xd2\x07\x00\x00", "not_a_bundle"),
    (b"\xf2\xff", "empty"),
    (b"\xf2\xff\x05\x00\xd2\x07", "cut_item"),
    (b"\xf2\xff\x01\x00\xd2", "short_item"),
    (bundle(bundle(b"\xd2\x07")), "nested"),
])
def test_a_malformed_bundle_raises_and_yields_nothing(data, verdict):
    with pytest.raises(DecodeError) as raised:
        unbundle(data)
    assert raised.value.verdict == verdict
    assert raised.value.length == len(data)
    assert verdict in str(raised.value)


def test_only_bytes_are_accepted():
    with pytest.raises(TypeError, match="bytes-like"):
        unbundle("\xf2\xff")


@pytest.mark.parametrize("bad", [-1, 2**32, 1472.0, "1472", True])
def test_a_target_refuses_a_bundle_limit_that_is_not_a_byte_count(bad):
    with pytest.raises(ValueError, match="bundle_bytes"):
        sil.NetworkTarget("127.0.0.1", 9, bundle_bytes=bad)


def test_loopback_hosts_get_the_largest_bundles_and_others_one_ethernet_frame():
    from sil import transport

    assert transport._is_loopback("127.0.0.1") and transport._is_loopback("localhost")
    assert not transport._is_loopback("192.0.2.1")  # TEST-NET-1: never loopback, never resolved
    assert not transport._is_loopback("no-such-host.invalid")


def test_a_sim_that_asked_for_none_sends_none(sil_sim_path, tmp_path):
    with sil.ProcessTarget(sil_sim_path, log_dir=tmp_path, bundle_bytes=0) as target:
        target.advance(ticks=20)
        assert target.ready.bundle_bytes == 0
        assert target.bundles == 0
        assert target.history(sil.Heartbeat), "the tick's messages still arrive, one per datagram"


def test_the_process_target_asks_for_bundles_and_gets_them(sil_sim_path, tmp_path):
    with sil.ProcessTarget(sil_sim_path, log_dir=tmp_path) as target:
        target.advance(ticks=20)
        assert target.ready.bundle_bytes == sil.MAX_BUNDLE_BYTES
        assert target.bundles == 20, "a bundle per tick, the last one ending with the reply"
        assert len(target.history(sil.Heartbeat)) == 2
