"""Run by test_lifecycle.py under `pytest -n 2`, not collected on its own:
each case launches a sil-sim, writes "<worker pid> <sim pid>" to a file in
SIL_LIFECYCLE_DIR and then waits to be killed (bounded, so a broken test
never hangs forever)."""

import os
import time

import pytest

from sil import SimProcess


@pytest.mark.parametrize("case", range(2))
def test_launch_and_wait_to_be_killed(case):
    proc = SimProcess(os.environ["SIL_SIM"], ["--port", "0"])
    assert proc.is_running(), "the sim stopped before its harness was killed"
    out = os.path.join(os.environ["SIL_LIFECYCLE_DIR"], f"case-{case}")
    with open(out + ".tmp", "w") as f:
        f.write(f"{os.getpid()} {proc.pid}\n")
    os.rename(out + ".tmp", out)
    time.sleep(60)
    pytest.fail("not killed within 60 s: the outer test (test_lifecycle.py) never got this far")
