"""Fixtures shared by the tests that hold on both targets."""

import pytest

from sil import InprocTarget, ProcessTarget


@pytest.fixture(params=["inproc", "process"])
def target(request, tmp_path):
    """The thermal system in-process, then as a launched sil-sim (step
    clock); a launched one must stop with status 0."""
    if request.param == "inproc":
        made = InprocTarget()
    else:
        made = ProcessTarget(request.getfixturevalue("sil_sim_path"), log_dir=tmp_path)
    yield made
    status = made.close()
    if request.param == "process":
        assert status == 0
