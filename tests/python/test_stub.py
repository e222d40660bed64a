"""The checked-in type stub of sil._core (the framework system's module) must
describe the extension as built; sil_add_system writes every other system
module's stub at build time."""

import importlib
from pathlib import Path

from sil import _stubgen

CORE = importlib.import_module("sil._core")

STUB = Path(__file__).resolve().parents[2] / "python" / "sil" / "_core.pyi"


def test_checked_in_stub_matches_the_built_extension():
    assert STUB.read_text() == _stubgen.generate(CORE), (
        f"{STUB} is stale (the C++ catalogue changed?). Regenerate it:\n"
        "  PYTHONPATH=<build>/python /usr/bin/python3 -m sil._stubgen > python/sil/_core.pyi"
    )


def test_stub_is_valid_python():
    compile(_stubgen.generate(CORE), str(STUB), "exec")


def test_a_system_modules_stub_is_written_beside_it():
    """thermal_sil.pyi, written by sil_add_system after the module is built."""
    module = importlib.import_module("thermal_sil")
    stub = Path(module.__file__).with_name("thermal_sil.pyi")
    assert stub.read_text() == _stubgen.generate(module)
    assert "class PlantTemperature" in stub.read_text()
