"""pytest plugin, loaded automatically through the ``pytest11`` entry point
whenever the sil package is importable.

Fixtures:
  sil                 the target the scenario drives (a sil.Target, fresh per
                      test): inject, request, expect, advance, history,
                      records, time_of, stats, now_ns. Which one comes from
                      --sil-target.
  sim                 a freshly started sil-sim (sil.SimProcess) on the
                      realtime clock, stopped after the test; a non-zero exit
                      status fails the test
  sil_client          a sil.SimClient talking to ``sim``
  sil_client_factory  makes more SimClients for the same sim (a second harness)
  sil_sim_path        the sil-sim binary the fixtures run

Options:
  --sil-target inproc|process|udp://HOST:PORT
                      inproc: the services and bus in this process, no
                      sockets; process (default): a sil-sim launched per test
                      with --clock step; udp://HOST:PORT: a sim or rig already
                      running there (not stopped afterwards)
  --sil-wall-timeout S
                      wall-clock seconds a sim may take to answer before the
                      test fails with SimHungError (default 30)
  --sil-sim PATH      (default $SIL_SIM, else bin/sil-sim of the build tree
                      this package lives in)
  --sil-rate HZ       tick rate for launched sims and inproc (default 100)

Markers:
  @pytest.mark.network        the test needs a real sil-sim on a socket (the
                              raw UDP contract, the peer rule): skipped with
                              --sil-target=inproc
  @pytest.mark.sil_clock(C)   the clock a process target launches with
                              (default step); inproc supports only step

A failing test that used ``sim``, or ``sil`` on a process target, gets the
sim's stderr in its report.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import sil as sil_package
from sil.client import SimClient
from sil.launcher import SimProcess
from sil.targets import DEFAULT_WALL_TIMEOUT, InprocTarget, NetworkTarget, ProcessTarget, parse_target

_SIM_KEY = pytest.StashKey[SimProcess]()
_CLOCKS = ("step", "fast", "realtime")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("sil", "sil simulation")
    group.addoption("--sil-target", metavar="TARGET", default="process",
                    help="what the `sil` fixture drives: inproc, process (default: a sil-sim launched per test, "
                         "step clock) or udp://HOST:PORT (a sim already running)")
    group.addoption("--sil-wall-timeout", metavar="SECONDS", type=float, default=DEFAULT_WALL_TIMEOUT,
                    help="wall-clock seconds a sim may take to answer before the test fails with SimHungError "
                         f"(default: {DEFAULT_WALL_TIMEOUT:g})")
    group.addoption("--sil-sim", metavar="PATH", default=None,
                    help="sil-sim binary to run (default: $SIL_SIM, else <build>/bin/sil-sim)")
    group.addoption("--sil-rate", metavar="HZ", type=int, default=100,
                    help="simulation tick rate for launched sims and the in-process target (default: 100)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "network: needs a real sil-sim on a socket; skipped with --sil-target=inproc")
    config.addinivalue_line("markers", "sil_clock(clock): the clock a process target launches with "
                                       "(step, fast or realtime; default step)")
    try:
        parse_target(config.getoption("--sil-target"))
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    if not config.getoption("--sil-wall-timeout") > 0:
        raise pytest.UsageError("--sil-wall-timeout must be a positive number of seconds")


def pytest_report_header(config: pytest.Config) -> str:
    return f"sil target: {config.getoption('--sil-target')}"


def pytest_runtest_setup(item: pytest.Item) -> None:
    kind, _address = parse_target(item.config.getoption("--sil-target"))
    if kind == "inproc" and item.get_closest_marker("network") is not None:
        pytest.skip("needs a real sil-sim on a socket (marked network); not available with --sil-target=inproc")


def _default_sim_path() -> Path:
    if os.environ.get("SIL_SIM"):
        return Path(os.environ["SIL_SIM"])
    # <build>/python/sil/__init__.py -> <build>/bin/sil-sim
    return Path(sil_package.__file__).resolve().parents[2] / "bin" / "sil-sim"


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


def _clock_of(request: pytest.FixtureRequest) -> str:
    marker = request.node.get_closest_marker("sil_clock")
    if marker is None:
        return "step"
    clock = marker.args[0] if marker.args else marker.kwargs.get("clock")
    if clock not in _CLOCKS:
        pytest.fail(f"@pytest.mark.sil_clock({clock!r}): the clock is one of {', '.join(_CLOCKS)}", pytrace=False)
    return clock


@pytest.fixture
def sil(request: pytest.FixtureRequest, tmp_path: Path):
    """The target under test; see the module docstring."""
    config = request.config
    kind, address = parse_target(config.getoption("--sil-target"))
    wall_timeout = config.getoption("--sil-wall-timeout")
    rate = config.getoption("--sil-rate")
    clock = _clock_of(request)
    if kind == "inproc":
        if clock != "step":
            pytest.skip(f"the in-process target is stepped; this test wants the {clock} clock")
        target = InprocTarget(rate, wall_timeout=wall_timeout)
    elif kind == "process":
        path = request.getfixturevalue("sil_sim_path")
        target = ProcessTarget(path, rate_hz=rate, clock=clock, log_dir=tmp_path, wall_timeout=wall_timeout)
        request.node.stash[_SIM_KEY] = target.process
    else:
        host, port = address
        target = NetworkTarget(host, port, wall_timeout=wall_timeout)
    try:
        yield target
    finally:
        status = target.close()
    if kind == "process" and status != 0:
        pytest.fail(f"sil-sim exited with status {status} (expected 0 after SIGTERM)", pytrace=False)


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
