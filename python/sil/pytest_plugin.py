"""pytest plugin, loaded automatically through the ``pytest11`` entry point
whenever the sil package is importable.

Fixtures:
  sim                 a freshly started sil-sim (sil.SimProcess), stopped after
                      the test; a non-zero exit status fails the test
  sil_client          a sil.SimClient talking to ``sim``
  sil_client_factory  makes more SimClients for the same sim (a second harness)
  sil_sim_path        the sil-sim binary the fixtures run

Options: --sil-sim PATH (default $SIL_SIM, else bin/sil-sim of the build tree
this package lives in) and --sil-rate HZ (default 100).
A failing test that used ``sim`` gets the sim's stderr in its report.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import sil
from sil.client import SimClient
from sil.launcher import SimProcess

_SIM_KEY = pytest.StashKey[SimProcess]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sil", "sil simulation")
    group.addoption("--sil-sim", metavar="PATH", default=None,
                    help="sil-sim binary to run (default: $SIL_SIM, else <build>/bin/sil-sim)")
    group.addoption("--sil-rate", metavar="HZ", type=int, default=100,
                    help="simulation tick rate passed to sil-sim --rate (default: 100)")


def _default_sim_path() -> Path:
    if os.environ.get("SIL_SIM"):
        return Path(os.environ["SIL_SIM"])
    # <build>/python/sil/__init__.py -> <build>/bin/sil-sim
    return Path(sil.__file__).resolve().parents[2] / "bin" / "sil-sim"


@pytest.fixture(scope="session")
def sil_sim_path(pytestconfig: pytest.Config) -> Path:
    option = pytestconfig.getoption("--sil-sim")
    path = Path(option) if option else _default_sim_path()
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(
            f"sil-sim not found at {path}. Build it with `cmake --build <build-dir> --target sil-sim`, "
            "then pass --sil-sim <build-dir>/bin/sil-sim or set SIL_SIM.",
            pytrace=False,
        )
    return path


@pytest.fixture
def sim(request: pytest.FixtureRequest, sil_sim_path: Path, tmp_path: Path):
    rate = request.config.getoption("--sil-rate")
    process = SimProcess(sil_sim_path, ["--port", "0", "--rate", str(rate)], log_dir=tmp_path)
    request.node.stash[_SIM_KEY] = process
    try:
        yield process
    finally:
        status = process.stop()
    if status != 0:
        # A sim that crashed or hung is a failure even if the test's own
        # assertions passed; its stderr is added by the report hook below.
        pytest.fail(f"sil-sim exited with status {status} (expected 0 after SIGTERM)", pytrace=False)


@pytest.fixture
def sil_client(sim: SimProcess):
    with SimClient(sim.port) as client:
        yield client


@pytest.fixture
def sil_client_factory(sim: SimProcess):
    clients: list[SimClient] = []

    def make(**kwargs) -> SimClient:
        client = SimClient(sim.port, **kwargs)
        clients.append(client)
        return client

    try:
        yield make
    finally:
        for client in clients:
            client.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    process = item.stash.get(_SIM_KEY, None)
    if process is None or not report.failed:
        return
    if call.when == "call":
        # The test is over; stopping now puts the sim's exit statistics
        # (its last stderr line) into the report. Teardown's stop() is a no-op.
        process.stop()
    report.sections.append(("sil-sim stderr", process.stderr_text() or "(empty)"))
