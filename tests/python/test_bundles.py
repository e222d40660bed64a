"""sil.unbundle: the harness side of bundles (README "Bundles"), through the
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
