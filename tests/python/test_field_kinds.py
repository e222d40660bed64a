"""Every FieldKind through the generic binding, using the test-only
_sil_probe module (python/src/probe_module.cpp): one message with a field of
each kind, so kinds no catalogue message uses yet are covered too."""

import importlib.util
import math
import struct
from pathlib import Path

import pytest

import sil

PROBE_DIR = Path(sil.__file__).resolve().parents[2] / "python-probe"
INT_RANGES = {
    "u8": (0, 2**8 - 1), "i8": (-(2**7), 2**7 - 1), "u16": (0, 2**16 - 1), "i16": (-(2**15), 2**15 - 1),
    "u32": (0, 2**32 - 1), "i32": (-(2**31), 2**31 - 1), "u64": (0, 2**64 - 1), "i64": (-(2**63), 2**63 - 1),
}
LAYOUT = "<BbHhIiQqfd5s"


def _load_probe():
    found = sorted(PROBE_DIR.glob("_sil_probe*.so"))
    assert found, f"no _sil_probe extension in {PROBE_DIR}: build the tests (SIL_BUILD_TESTS=ON)"
    spec = importlib.util.spec_from_file_location("_sil_probe", found[0])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_PROBE = _load_probe()
AllKinds = _PROBE.AllKinds
NoFields = _PROBE.NoFields


def test_a_message_with_no_fields_constructs_with_no_arguments():
    assert isinstance(NoFields(), NoFields) and isinstance(NoFields.zero(), NoFields)
    assert NoFields.fields() == []
    assert repr(NoFields()) == "NoFields()"
    with pytest.raises(TypeError, match=r"NoFields\(\) got an unexpected keyword argument 'x' \(fields: \)"):
        NoFields(x=1)


def test_every_kind_can_be_left_out_and_is_named():
    with pytest.raises(TypeError, match=r"AllKinds\(\) missing 10 fields: 'u8', 'i8', 'u16', 'i16', 'u32', "
                                        r"'i32', 'u64', 'f32', 'f64', 'text' \("):
        AllKinds(i64=1)


def test_fields_cover_every_kind_in_order():
    assert [(name, kind) for name, kind, _offset, _size in AllKinds.fields()] == [
        (kind, kind) for kind in (*INT_RANGES, "f32", "f64", "text")]
    assert AllKinds.SIZE == struct.calcsize(LAYOUT)


@pytest.mark.parametrize("kind", INT_RANGES)
def test_int_kinds_take_their_whole_range_and_nothing_more(kind):
    low, high = INT_RANGES[kind]
    for value in (low, high, 0):
        assert getattr(AllKinds.zero(**{kind: value}), kind) == value
    for value in (low - 1, high + 1):
        with pytest.raises(OverflowError, match=rf"AllKinds\.{kind}: {value} is out of range for {kind} \({low}\.\.{high}\)"):
            AllKinds.zero(**{kind: value})


def test_values_are_little_endian_on_the_wire():
    values = dict(u8=1, i8=-2, u16=3, i16=-4, u32=5, i32=-6, u64=7, i64=-8, f32=0.5, f64=-0.25, text="abc")
    payload = AllKinds.zero(**values).to_bytes()
    assert payload == struct.pack(LAYOUT, *(v.encode() if isinstance(v, str) else v for v in values.values()))
    back = AllKinds.from_bytes(payload)
    assert {name: getattr(back, name) for name in values} == values


@pytest.mark.parametrize("kind", ["f32", "f64"])
def test_float_kinds_take_ints_floats_and_non_finite_values(kind):
    assert getattr(AllKinds.zero(**{kind: 3}), kind) == 3.0
    assert getattr(AllKinds.zero(**{kind: -1.5}), kind) == -1.5
    assert getattr(AllKinds.zero(**{kind: math.inf}), kind) == math.inf
    assert math.isnan(getattr(AllKinds.zero(**{kind: math.nan}), kind))


@pytest.mark.parametrize("kind", ["f32", "f64"])
@pytest.mark.parametrize("value", ["1.0", None, True, b"1"], ids=repr)
def test_float_kinds_reject_non_numbers(kind, value):
    with pytest.raises(TypeError, match=rf"AllKinds\.{kind} must be a float, got {type(value).__name__}"):
        AllKinds.zero(**{kind: value})


def test_f32_rejects_values_beyond_its_range():
    with pytest.raises(OverflowError, match=r"AllKinds\.f32: 1e\+39 does not fit a f32"):
        AllKinds.zero(f32=1e39)
    assert AllKinds.zero(f32=3.0e38).f32 == pytest.approx(3.0e38, rel=1e-6)


def test_ints_too_large_for_a_double_are_rejected_by_float_kinds():
    with pytest.raises(OverflowError, match=r"AllKinds\.f64: .* does not fit a f64"):
        AllKinds.zero(f64=10**400)


def test_f32_rounds_to_single_precision():
    assert AllKinds.zero(f32=0.1).f32 == struct.unpack("<f", struct.pack("<f", 0.1))[0]


def test_non_utf8_text_from_the_wire_survives_a_round_trip():
    payload = bytearray(AllKinds.SIZE)
    payload[-5:] = b"\xff\xfeab"[:4] + b"\x00"
    msg = AllKinds.from_bytes(bytes(payload))
    assert isinstance(msg.text, str)
    copy = AllKinds.zero(text=msg.text)
    assert copy.to_bytes() == bytes(payload)
