"""Run by test_lifecycle.py under `pytest -n 4`, not collected on its own
(the name does not start with test_): each case starts a sil-sim on a
kernel-chosen port and stops it. SIL_LIFECYCLE_CYCLES sets how many."""

import os

import pytest

from sil import SimProcess, SimStartError

CYCLES = int(os.environ.get("SIL_LIFECYCLE_CYCLES", "200"))


@pytest.mark.parametrize("cycle", range(CYCLES))
def test_start_and_stop(cycle):
    try:
        proc = SimProcess(os.environ["SIL_SIM"], ["--port", "0"])
    except SimStartError as error:
        pytest.fail(f"cycle {cycle}: {error}")
    assert proc.ready["pid"] == proc.pid
    assert proc.stop() == 0, proc.stderr_text()
