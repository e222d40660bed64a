"""The checked-in type stub of sil._core must describe the extension as built."""

from pathlib import Path

from sil import _stubgen

STUB = Path(__file__).resolve().parents[2] / "python" / "sil" / "_core.pyi"


def test_checked_in_stub_matches_the_built_extension():
    assert STUB.read_text() == _stubgen.generate(), (
        f"{STUB} is stale (the C++ catalogue changed?). Regenerate it:\n"
        "  PYTHONPATH=<build>/python /usr/bin/python3 -m sil._stubgen > python/sil/_core.pyi"
    )


def test_stub_is_valid_python():
    compile(_stubgen.generate(), str(STUB), "exec")
