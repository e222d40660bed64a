"""The generated message classes and the wire functions of a system module.

Per-message tests iterate message_types(), so a message added to the C++
catalogue is covered without editing this file.
"""

import copy
import random
import struct

import pytest

import sil
from sil import DecodeError, Heartbeat, MsgId, RevisionRequest, RevisionResponse

MESSAGE_TYPES = sil.message_types()
_INT_RANGES = {
    "u8": (0, 2**8 - 1), "u16": (0, 2**16 - 1), "u32": (0, 2**32 - 1), "u64": (0, 2**64 - 1),
    "i8": (-(2**7), 2**7 - 1), "i16": (-(2**15), 2**15 - 1),
    "i32": (-(2**31), 2**31 - 1), "i64": (-(2**63), 2**63 - 1),
}
FIELDS = [(cls, name, kind, size) for cls in MESSAGE_TYPES for name, kind, _offset, size in cls.fields()]
INT_FIELDS = [f for f in FIELDS if f[2] in _INT_RANGES]
TEXT_FIELDS = [f for f in FIELDS if f[2] == "text"]


def _field_id(field):
    cls, name, kind, _size = field
    return f"{cls.__name__}.{name}:{kind}"


def _random_message(cls, rng):
    """A message with every field set to a random value of its kind."""
    values = {}
    for name, kind, _offset, size in cls.fields():
        if kind in _INT_RANGES:
            values[name] = rng.randint(*_INT_RANGES[kind])
        elif kind == "text":
            values[name] = "".join(rng.choice("0123456789abcdef") for _ in range(rng.randint(0, size)))
        else:  # f32/f64: quarters of small ints are exact in both
            values[name] = rng.randint(-(2**20), 2**20) / 4
    return cls(**values), values


# -- the catalogue as Python sees it ---------------------------------------

def test_message_types_match_msg_id_members_one_to_one():
    assert [cls.__name__ for cls in MESSAGE_TYPES] == list(MsgId.__members__)
    for cls in MESSAGE_TYPES:
        assert cls.ID == MsgId.__members__[cls.__name__]
        assert cls.NAME == cls.__name__


def test_known_messages_have_the_documented_ids_and_sizes():
    assert (int(RevisionRequest.ID), RevisionRequest.SIZE) == (2000, 4)
    assert (int(RevisionResponse.ID), RevisionResponse.SIZE) == (2001, 65)
    assert (int(Heartbeat.ID), Heartbeat.SIZE) == (2002, 20)


@pytest.mark.parametrize("cls", MESSAGE_TYPES, ids=lambda c: c.__name__)
def test_fields_tile_the_payload_in_order(cls):
    offset = 0
    for name, kind, field_offset, size in cls.fields():
        assert field_offset == offset, name
        assert kind in (*_INT_RANGES, "f32", "f64", "text")
        offset += size
    assert offset == cls.SIZE


def test_revision_response_fields_are_the_documented_layout():
    assert RevisionResponse.fields() == [
        ("request_id", "u32", 0, 4), ("version_major", "u8", 4, 1), ("version_minor", "u8", 5, 1),
        ("version_patch", "u8", 6, 1), ("build_flags", "u8", 7, 1), ("git_revision", "text", 8, 40),
        ("build_time_unix", "i64", 48, 8), ("catalogue_hash", "u32", 56, 4), ("wire_version", "u8", 60, 1),
        ("tick_rate_hz", "u32", 61, 4),
    ]


def test_module_constants():
    assert sil.WIRE_VERSION == 1
    assert sil.HEADER_SIZE == 2
    assert sil.MAX_DATAGRAM_SIZE == sil.HEADER_SIZE + max(cls.SIZE for cls in MESSAGE_TYPES)
    assert isinstance(sil.catalogue_hash, int) and 0 <= sil.catalogue_hash < 2**32


# -- construction and fields ------------------------------------------------

@pytest.mark.parametrize("cls", MESSAGE_TYPES, ids=lambda c: c.__name__)
def test_zero_sets_every_field_to_zero_or_empty(cls):
    msg = cls.zero()
    for name, kind, _offset, _size in cls.fields():
        assert getattr(msg, name) == ("" if kind == "text" else 0), name
    assert msg.to_bytes() == bytes(cls.SIZE)


@pytest.mark.parametrize("cls", MESSAGE_TYPES, ids=lambda c: c.__name__)
def test_every_field_left_out_is_named(cls):
    names = [name for name, *_ in cls.fields()]
    with pytest.raises(TypeError) as raised:
        cls()
    text = str(raised.value)
    assert text.startswith(f"{cls.__name__}() missing {len(names)} field")
    assert all(f"'{name}'" in text for name in names)
    assert f"{cls.__name__}.zero(...)" in text


def test_one_missing_field_is_named_alone():
    with pytest.raises(TypeError, match=r"^Heartbeat\(\) missing 1 field: 'tick' \(give every field, or use "
                                        r"Heartbeat\.zero\(\.\.\.\) for zeros in the fields not given\)$"):
        Heartbeat(sequence=1, sim_time_ns=3)


def test_several_missing_fields_are_named_in_wire_order():
    with pytest.raises(TypeError, match=r"RevisionResponse\(\) missing 8 fields: 'version_major', 'version_minor', "
                                        r"'version_patch', 'build_flags', 'build_time_unix', 'catalogue_hash', "
                                        r"'wire_version', 'tick_rate_hz' \("):
        RevisionResponse(request_id=7, git_revision="abc")


def test_every_field_given_constructs():
    assert Heartbeat(sequence=1, tick=2, sim_time_ns=3).to_bytes() == struct.pack("<IQQ", 1, 2, 3)


def test_unknown_keyword_is_reported_before_missing_ones():
    with pytest.raises(TypeError, match="unexpected keyword argument 'ticks'"):
        Heartbeat(sequence=1, ticks=2)
    with pytest.raises(TypeError, match="unexpected keyword argument 'ticks'"):
        Heartbeat.zero(ticks=2)


def test_zero_checks_values_like_the_constructor():
    with pytest.raises(OverflowError, match=r"Heartbeat\.sequence: -1 is out of range for u32"):
        Heartbeat.zero(sequence=-1)
    with pytest.raises(TypeError, match=r"Heartbeat\.zero\(\) takes keyword arguments only"):
        Heartbeat.zero(1)


def test_zero_with_overrides_sets_only_those():
    msg = Heartbeat.zero(tick=9)
    assert (msg.sequence, msg.tick, msg.sim_time_ns) == (0, 9, 0)
    assert msg == Heartbeat(sequence=0, tick=9, sim_time_ns=0)


def test_keyword_arguments_set_fields():
    msg = RevisionResponse.zero(request_id=7, git_revision="abc123", build_time_unix=-5, tick_rate_hz=100)
    assert (msg.request_id, msg.git_revision, msg.build_time_unix, msg.tick_rate_hz) == (7, "abc123", -5, 100)
    assert msg.version_major == 0


def test_positional_arguments_are_rejected():
    with pytest.raises(TypeError, match="keyword arguments only"):
        RevisionRequest(7)


def test_unknown_keyword_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="unexpected keyword argument 'request'"):
        RevisionRequest(request=7)


def test_unknown_attribute_cannot_be_set():
    msg = RevisionRequest.zero()
    with pytest.raises(AttributeError):
        msg.requestid = 7


def test_attributes_can_be_set_and_read_back():
    msg = Heartbeat.zero()
    msg.sequence = 3
    msg.sim_time_ns = 2**64 - 1
    assert (msg.sequence, msg.tick, msg.sim_time_ns) == (3, 0, 2**64 - 1)


@pytest.mark.parametrize("field", INT_FIELDS, ids=_field_id)
def test_int_field_accepts_both_ends_of_its_range(field):
    cls, name, kind, _size = field
    low, high = _INT_RANGES[kind]
    for value in (low, high):
        assert getattr(cls.zero(**{name: value}), name) == value


@pytest.mark.parametrize("field", INT_FIELDS, ids=_field_id)
def test_int_field_out_of_range_names_field_and_range(field):
    cls, name, kind, _size = field
    low, high = _INT_RANGES[kind]
    for value in (low - 1, high + 1, 2**80, -(2**80)):
        with pytest.raises(OverflowError, match=rf"{cls.__name__}\.{name}: .* out of range for {kind} \({low}\.\.{high}\)"):
            cls.zero(**{name: value})
        msg = cls.zero()
        with pytest.raises(OverflowError, match=rf"{cls.__name__}\.{name}"):
            setattr(msg, name, value)
        assert getattr(msg, name) == 0, "a rejected value must leave the field unchanged"


@pytest.mark.parametrize("field", INT_FIELDS, ids=_field_id)
@pytest.mark.parametrize("value", [1.0, "1", b"1", None, True, [1]], ids=repr)
def test_int_field_rejects_non_int_types(field, value):
    cls, name, _kind, _size = field
    with pytest.raises(TypeError, match=rf"{cls.__name__}\.{name} must be an int, got {type(value).__name__}"):
        cls.zero(**{name: value})


@pytest.mark.parametrize("field", TEXT_FIELDS, ids=_field_id)
def test_text_field_holds_exactly_its_capacity(field):
    cls, name, _kind, size = field
    full = "x" * size
    msg = cls.zero(**{name: full})
    assert getattr(msg, name) == full
    with pytest.raises(ValueError, match=rf"{cls.__name__}\.{name} holds at most {size} bytes of UTF-8, got {size + 1}"):
        cls.zero(**{name: full + "x"})
    with pytest.raises(ValueError, match=str(size)):
        setattr(msg, name, full + "x")
    assert getattr(msg, name) == full


@pytest.mark.parametrize("field", TEXT_FIELDS, ids=_field_id)
def test_text_field_capacity_counts_utf8_bytes(field):
    cls, name, _kind, size = field
    two_byte = "\u00e9"  # 2 bytes of UTF-8
    fits = two_byte * (size // 2)
    assert getattr(cls.zero(**{name: fits}), name) == fits
    with pytest.raises(ValueError, match=rf"{name} holds at most {size} bytes"):
        cls.zero(**{name: two_byte * (size // 2 + 1)})


@pytest.mark.parametrize("field", TEXT_FIELDS, ids=_field_id)
@pytest.mark.parametrize("value", [b"abc", 5, None], ids=repr)
def test_text_field_rejects_non_str(field, value):
    cls, name, _kind, _size = field
    with pytest.raises(TypeError, match=rf"{name} must be a str, got {type(value).__name__}"):
        cls.zero(**{name: value})


@pytest.mark.parametrize("field", TEXT_FIELDS, ids=_field_id)
def test_text_field_rejects_embedded_nul(field):
    cls, name, _kind, _size = field
    with pytest.raises(ValueError, match="NUL"):
        cls.zero(**{name: "a\0b"})


def test_text_is_nul_padded_on_the_wire():
    payload = RevisionResponse.zero(git_revision="abc").to_bytes()
    assert payload[8:48] == b"abc" + bytes(37)


# -- bytes --------------------------------------------------------------------

@pytest.mark.parametrize("cls", MESSAGE_TYPES, ids=lambda c: c.__name__)
def test_round_trip_through_bytes_for_every_message(cls):
    rng = random.Random(cls.__name__)
    for _ in range(50):
        msg, values = _random_message(cls, rng)
        payload = msg.to_bytes()
        assert len(payload) == cls.SIZE
        back = cls.from_bytes(payload)
        assert back == msg
        for name, value in values.items():
            assert getattr(back, name) == value, name
        assert sil.decode(sil.encode(msg)) == msg


@pytest.mark.parametrize("cls", MESSAGE_TYPES, ids=lambda c: c.__name__)
def test_arbitrary_payload_bytes_survive_a_round_trip(cls):
    rng = random.Random(1)
    for _ in range(50):
        payload = rng.randbytes(cls.SIZE)
        assert cls.from_bytes(payload).to_bytes() == payload
        assert cls.from_bytes(bytearray(payload)) == cls.from_bytes(memoryview(payload))


@pytest.mark.parametrize("cls", MESSAGE_TYPES, ids=lambda c: c.__name__)
def test_from_bytes_needs_exactly_size_bytes(cls):
    for length in (0, cls.SIZE - 1, cls.SIZE + 1):
        with pytest.raises(ValueError, match=rf"^{cls.__name__} needs exactly {cls.SIZE} bytes, got {length}$"):
            cls.from_bytes(bytes(length))


def test_from_bytes_error_message_is_exact():
    with pytest.raises(ValueError) as error:
        RevisionResponse.from_bytes(b"abc")
    assert str(error.value) == "RevisionResponse needs exactly 65 bytes, got 3"


@pytest.mark.parametrize("value", ["abcd", 4, None, [0, 0, 0, 0]], ids=repr)
def test_from_bytes_rejects_non_bytes(value):
    with pytest.raises(TypeError, match="bytes-like"):
        RevisionRequest.from_bytes(value)


def test_fields_are_little_endian_on_the_wire():
    assert RevisionRequest(request_id=0x01020304).to_bytes() == b"\x04\x03\x02\x01"
    hb = Heartbeat(sequence=1, tick=2, sim_time_ns=3)
    assert hb.to_bytes() == struct.pack("<IQQ", 1, 2, 3)


def test_equality_and_repr():
    a = RevisionRequest(request_id=1)
    assert a == RevisionRequest(request_id=1)
    assert a != RevisionRequest(request_id=2)
    assert a != Heartbeat.zero()
    assert a != 1
    assert repr(a) == "RevisionRequest(request_id=1)"
    assert repr(RevisionResponse.zero(git_revision="ab")).count("=") == len(RevisionResponse.fields())
    assert "git_revision='ab'" in repr(RevisionResponse.zero(git_revision="ab"))
    with pytest.raises(TypeError):
        hash(a)  # mutable


# -- datagrams ----------------------------------------------------------------

def test_encode_puts_the_little_endian_msg_id_first():
    datagram = sil.encode(RevisionRequest(request_id=0x11223344))
    assert datagram == bytes([0xD0, 0x07, 0x44, 0x33, 0x22, 0x11])


@pytest.mark.parametrize("cls", MESSAGE_TYPES, ids=lambda c: c.__name__)
def test_encode_is_header_plus_payload(cls):
    msg, _values = _random_message(cls, random.Random(2))
    datagram = sil.encode(msg)
    assert datagram == struct.pack("<H", int(cls.ID)) + msg.to_bytes()
    assert len(datagram) == sil.HEADER_SIZE + cls.SIZE
    assert type(sil.decode(datagram)) is cls


@pytest.mark.parametrize("value", [b"\xd0\x07\0\0\0\0", 5, None, "RevisionRequest"], ids=repr)
def test_encode_rejects_non_messages(value):
    with pytest.raises(TypeError, match="encode\\(\\) needs a message"):
        sil.encode(value)


@pytest.mark.parametrize("value", ["\xd0\x07\0\0\0\0", 6, None], ids=repr)
def test_decode_rejects_non_bytes(value):
    with pytest.raises(TypeError, match="bytes-like"):
        sil.decode(value)


def test_decode_accepts_any_bytes_like():
    datagram = sil.encode(RevisionRequest(request_id=9))
    for data in (datagram, bytearray(datagram), memoryview(datagram)):
        assert sil.decode(data) == RevisionRequest(request_id=9)


def _unknown_id():
    known = {int(m) for m in MsgId.__members__.values()}
    return next(i for i in range(0xFFFF, 0, -1) if i not in known)


@pytest.mark.parametrize(
    "datagram, verdict, detail",
    [
        (b"", "too_short", "0 bytes"),
        (b"\xd0", "too_short", "1 bytes"),
        (struct.pack("<H", _unknown_id()) + bytes(4), "unknown_id", f"MsgId {_unknown_id()}"),
        (b"\xd0\x07" + bytes(3), "wrong_size", "RevisionRequest (MsgId 2000) datagrams are 6 bytes, got 5"),
        (b"\xd0\x07" + bytes(5), "wrong_size", "got 7"),
        (b"\xd1\x07", "wrong_size", "got 2"),
        (bytes(sil.MAX_DATAGRAM_SIZE + 1), "truncated", f"{sil.MAX_DATAGRAM_SIZE + 1} bytes"),
        (b"\xd0\x07" + bytes(2000), "truncated", "2002 bytes"),
    ],
    ids=["empty", "one-byte", "unknown-id", "short-payload", "long-payload", "header-only", "just-too-long", "huge"],
)
def test_decode_errors_name_the_verdict(datagram, verdict, detail):
    with pytest.raises(DecodeError) as error:
        sil.decode(datagram)
    assert str(error.value).startswith(verdict + ": ")
    assert detail in str(error.value)
    assert error.value.verdict == verdict
    assert error.value.length == len(datagram)
    assert error.value.msg_id == (struct.unpack_from("<H", datagram)[0] if len(datagram) >= 2 else None)


def test_decode_error_is_a_value_error():
    assert issubclass(DecodeError, ValueError)
    with pytest.raises(ValueError):
        sil.decode(b"")


@pytest.mark.parametrize("cls", MESSAGE_TYPES, ids=lambda c: c.__name__)
def test_decode_rejects_one_byte_short_and_long_for_every_message(cls):
    header = struct.pack("<H", int(cls.ID))
    for size in (cls.SIZE - 1, cls.SIZE + 1):
        datagram = header + bytes(size)
        # One byte over the largest message is more than the sim's receive buffer holds.
        verdict = "truncated" if len(datagram) > sil.MAX_DATAGRAM_SIZE else "wrong_size"
        with pytest.raises(DecodeError, match=f"^{verdict}: "):
            sil.decode(datagram)


@pytest.mark.parametrize("copier", [copy.copy, copy.deepcopy], ids=["copy", "deepcopy"])
def test_copies_are_equal_and_independent(copier):
    original = RevisionResponse.zero(request_id=1, git_revision="abc")
    duplicate = copier(original)
    assert duplicate == original and duplicate is not original
    duplicate.request_id = 2
    assert original.request_id == 1


@pytest.mark.parametrize("field", TEXT_FIELDS, ids=_field_id)
def test_text_that_cannot_be_utf8_is_a_value_error_naming_the_field(field):
    cls, name, _kind, _size = field
    with pytest.raises(ValueError, match=rf"{cls.__name__}\.{name}: .*surrogates not allowed"):
        cls.zero(**{name: "\ud800"})
