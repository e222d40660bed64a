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
  --sil-sim PATH      the sil-sim binary to run. Default: the ini setting
                      sil_sim (relative to the ini file), else $SIL_SIM,
                      else bin/sil-sim of the build tree this package lives in
  --sil-module NAME   the compiled system module to use (sil._system): its
                      message classes (sil.SetPoint, ...) and, on the inproc
                      target, its simulation. Default: the ini setting
                      sil_module, else $SIL_MODULE, else sil._core. It is
                      selected before any conftest.py is imported, so a
                      conftest may take message classes at import time
  --sil-rate HZ       tick rate for launched sims and inproc (default 100)
  --sil-report-window S
                      simulated seconds before the failure that a failing
                      test's report shows in full (default 5)
  --sil-artefact-messages N
                      the most lines each list in a failing test's report
                      shows, the last ones (default 40)
  --sil-keep-artefacts
                      keep recordings and sim logs of passing tests too
  --sil-no-record     launched sims do not record

Ini settings (pytest.ini, or [tool:pytest] in setup.cfg, ...):
  sil_module = NAME   as --sil-module, which overrides it
  sil_sim = PATH      as --sil-sim, which overrides it; a relative PATH is
                      taken from the ini file's directory

Markers:
  @pytest.mark.network        the test needs a real sil-sim on a socket (the
                              raw UDP contract, the peer rule): skipped with
                              --sil-target=inproc
  @pytest.mark.sil_clock(C)   the clock a process target launches with
                              (default step); inproc supports only step
  @pytest.mark.sil_params({"thermostat.hysteresis_c": 0.8, ...})
                              parameters set before the sim starts: --param
                              for a process target, before the first tick
                              in process; on udp:// (a sim already running)
                              they are set when the test starts

Parameters and faults: every parameter a test changes through sil.params
(and the sil_params marker on udp://) is restored, and every fault it adds
through sil.fault is removed, when the test ends, pass or fail.

Failure report: a failing test that used ``sil`` gets a "sil artefacts"
section, the same on every target (sil.failure_report): what the test did
(injections, parameter changes, faults), the last --sil-report-window
seconds of simulated time (each message when it changed), the last value of
every message type, the sim's stats, and the paths of the files written for
it into the test's tmp_path: the whole history decoded and a plot of the
window. A sim launched for ``sim``, or for ``sil`` on a process target, also
records (sil-sim --record) into tmp_path and writes its stderr there; the
report gives their paths and the sim's stderr gets its own section. A
passing test's files are deleted unless --sil-keep-artefacts.
docs/scenarios.md "When a scenario fails".
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Optional

import pytest

import sil as sil_package
from sil import failure_report
from sil._system import SystemInUseError, SystemModuleError, use_system
from sil.artefacts import SimArtefacts
from sil.client import SimClient
from sil.launcher import SimProcess, stopped_line_report
from sil.simtime import NS_PER_S
from sil.target_base import _WallGuard
from sil.targets import DEFAULT_WALL_TIMEOUT, InprocTarget, NetworkTarget, ProcessTarget, parse_target

# The sims launched for a test, in launch order, and whether any phase failed.
_ARTEFACTS_KEY = pytest.StashKey[list]()
_FAILED_KEY = pytest.StashKey[bool]()
_REPORTED_KEY = pytest.StashKey[bool]()
_TARGET_KEY = pytest.StashKey[tuple]()  # (the sil fixture's target, its tmp_path)
DEFAULT_ARTEFACT_MESSAGES = 40
DEFAULT_REPORT_WINDOW_S = 5.0
STATS_WALL_LIMIT_S = 5.0  # a report never waits longer than this for a sim's stats
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
                    help="sil-sim binary to run (default: ini sil_sim, else $SIL_SIM, else <build>/bin/sil-sim)")
    group.addoption("--sil-module", metavar="NAME", default=None,
                    help="compiled system module for the message classes and the inproc target "
                         "(default: ini sil_module, else $SIL_MODULE, else sil._core)")
    group.addoption("--sil-rate", metavar="HZ", type=int, default=100,
                    help="simulation tick rate for launched sims and the in-process target (default: 100)")
    group.addoption("--sil-report-window", metavar="SECONDS", type=float, default=DEFAULT_REPORT_WINDOW_S,
                    help="simulated seconds before the failure that a failing test's report shows in full "
                         f"(default: {DEFAULT_REPORT_WINDOW_S:g})")
    group.addoption("--sil-artefact-messages", metavar="N", type=int, default=DEFAULT_ARTEFACT_MESSAGES,
                    help="the most lines each list in a failing test's report shows, the last ones "
                         f"(default: {DEFAULT_ARTEFACT_MESSAGES})")
    group.addoption("--sil-keep-artefacts", action="store_true",
                    help="keep the recordings and sim logs of passing tests (default: deleted)")
    group.addoption("--sil-no-record", action="store_true",
                    help="launched sims do not record (no --record)")
    parser.addini("sil_module", "compiled system module for the message classes and the inproc target "
                                "(--sil-module overrides it)", default="")
    parser.addini("sil_sim", "sil-sim binary to run, relative to the ini file (--sil-sim overrides it)",
                  default="")


def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    # Before the conftest.py files are imported (pytest's own hook does that,
    # last): one that takes a message class at import time then gets the
    # selected module's. Not first: pytest's `pythonpath` ini setting, which
    # may be where the module is, is applied by a tryfirst hook.
    _select_system(early_config, early_config.known_args_namespace.sil_module)


def pytest_configure(config: pytest.Config) -> None:
    # Again, for a plugin registered too late for the hook above (through
    # `pytest_plugins` in a conftest.py); selecting the module already in
    # use does nothing.
    _select_system(config, config.getoption("--sil-module"))
    config.addinivalue_line("markers", "network: needs a real sil-sim on a socket; skipped with --sil-target=inproc")
    config.addinivalue_line("markers", "sil_clock(clock): the clock a process target launches with "
                                       "(step, fast or realtime; default step)")
    config.addinivalue_line("markers", "sil_params(values): {name: value} of parameters set before the sim starts "
                                       "(docs/parameters.md)")
    try:
        parse_target(config.getoption("--sil-target"))
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    if not config.getoption("--sil-wall-timeout") > 0:
        raise pytest.UsageError("--sil-wall-timeout must be a positive number of seconds")
    if config.getoption("--sil-artefact-messages") < 0:
        raise pytest.UsageError("--sil-artefact-messages must be 0 or more")
    if not config.getoption("--sil-report-window") > 0:
        raise pytest.UsageError("--sil-report-window must be a positive number of simulated seconds")


def _select_system(config: pytest.Config, option: Optional[str]) -> None:
    """Selects the system module named by --sil-module (option), else by the
    ini setting; with neither, sil._system's default stands ($SIL_MODULE,
    else sil._core). A module that cannot be used is a usage error."""
    name = option or config.getini("sil_module")
    if not name:
        return
    where = "--sil-module" if option else "the ini setting sil_module"
    try:
        use_system(name)
    except (SystemModuleError, SystemInUseError) as error:
        raise pytest.UsageError(f"{where}: {error}") from None


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


def _sim_path(config: pytest.Config) -> Path:
    """--sil-sim, else the ini setting sil_sim, else the default."""
    option = config.getoption("--sil-sim")
    if option:
        return Path(option)
    setting = config.getini("sil_sim")
    if setting:
        path = Path(setting).expanduser()
        return path if path.is_absolute() or config.inipath is None else config.inipath.parent / path
    return _default_sim_path()


@pytest.fixture(scope="session")
def sil_sim_path(pytestconfig: pytest.Config) -> Path:
    path = _sim_path(pytestconfig)
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


def _params_of(request: pytest.FixtureRequest) -> dict:
    """{name: value} from @pytest.mark.sil_params({...}) (several markers
    merge, the closest winning)."""
    values: dict = {}
    for marker in reversed(list(request.node.iter_markers("sil_params"))):
        given = dict(marker.kwargs)
        for arg in marker.args:
            if not isinstance(arg, dict):
                pytest.fail(f"@pytest.mark.sil_params takes a {{name: value}} dict, got {arg!r}", pytrace=False)
            given.update(arg)
        for name, value in given.items():
            if not isinstance(name, str) or not isinstance(value, (bool, int, float)):
                pytest.fail(f"@pytest.mark.sil_params: {name!r}: {value!r} is not a bool, int or float",
                            pytrace=False)
        values.update(given)
    return values


def _recording_args(request: pytest.FixtureRequest, path: Path) -> tuple[Optional[Path], list[str]]:
    if request.config.getoption("--sil-no-record"):
        return None, []
    return path, ["--record", str(path)]


def _register(request: pytest.FixtureRequest, artefacts: SimArtefacts) -> None:
    request.node.stash.setdefault(_ARTEFACTS_KEY, []).append(artefacts)


def _after_sim(request: pytest.FixtureRequest, artefacts: SimArtefacts, status: int) -> None:
    """Teardown: a sim that did not exit cleanly fails the test; the files
    of a test that passed are deleted."""
    if status != 0:
        # A sim that crashed or hung is a failure even if the test's own
        # assertions passed; the report hook below adds its artefacts.
        pytest.fail(f"sil-sim exited with status {status} (expected 0 after SIGTERM)", pytrace=False)
    if not request.node.stash.get(_FAILED_KEY, False) and not request.config.getoption("--sil-keep-artefacts"):
        artefacts.discard()


@pytest.fixture
def sil(request: pytest.FixtureRequest, tmp_path: Path):
    """The target under test; see the module docstring."""
    config = request.config
    kind, address = parse_target(config.getoption("--sil-target"))
    wall_timeout = config.getoption("--sil-wall-timeout")
    rate = config.getoption("--sil-rate")
    clock = _clock_of(request)
    params = _params_of(request)
    if kind == "inproc":
        if clock != "step":
            pytest.skip(f"the in-process target is stepped; this test wants the {clock} clock")
        target = InprocTarget(rate, wall_timeout=wall_timeout, params=params)
    elif kind == "process":
        path = request.getfixturevalue("sil_sim_path")
        recording, record_args = _recording_args(request, tmp_path / "sil.silrec")
        target = ProcessTarget(path, rate_hz=rate, clock=clock, log_dir=tmp_path, wall_timeout=wall_timeout,
                               extra_args=record_args, params=params)
        artefacts = SimArtefacts(target.process, recording)
        _register(request, artefacts)
    else:
        host, port = address
        target = NetworkTarget(host, port, wall_timeout=wall_timeout)
        if params:
            target.params.set(params)
    request.node.stash[_TARGET_KEY] = (target, tmp_path)
    try:
        yield target
    finally:
        try:
            # The sim of a process or inproc target ends with the test, but
            # the restore is the same everywhere, and recorded.
            if _sim_alive(target):
                if target._faults is not None:
                    target._faults.remove_all()
                if target._params is not None and target._params.changed():
                    target._params.restore()
        finally:
            status = target.close()
    if kind == "process":
        _after_sim(request, artefacts, status)


def _sim_alive(target) -> bool:
    process = getattr(target, "process", None)
    return process is None or process.is_running()


@pytest.fixture
def sim(request: pytest.FixtureRequest, sil_sim_path: Path, tmp_path: Path):
    rate = request.config.getoption("--sil-rate")
    recording, record_args = _recording_args(request, tmp_path / "sim.silrec")
    process = SimProcess(sil_sim_path, ["--port", "0", "--rate", str(rate), *record_args], log_dir=tmp_path)
    artefacts = SimArtefacts(process, recording)
    _register(request, artefacts)
    try:
        yield process
    finally:
        status = process.stop()
    _after_sim(request, artefacts, status)


@pytest.fixture
def sil_client(sim: SimProcess):
    with SimClient("127.0.0.1", sim.port) as client:
        yield client


@pytest.fixture
def sil_client_factory(sim: SimProcess):
    clients: list[SimClient] = []

    def make(**kwargs) -> SimClient:
        client = SimClient("127.0.0.1", sim.port, **kwargs)
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
    if not report.failed:
        return
    item.stash[_FAILED_KEY] = True
    launched = item.stash.get(_ARTEFACTS_KEY, [])
    target_of_test = item.stash.get(_TARGET_KEY, None)
    if (not launched and target_of_test is None) or item.stash.get(_REPORTED_KEY, False):
        return
    item.stash[_REPORTED_KEY] = True  # once per test, by the first phase that failed
    config = item.config
    last = config.getoption("--sil-artefact-messages")
    text = []
    if target_of_test is not None and not target_of_test[0]._closed:
        target, tmp_path = target_of_test
        window_ns = int(config.getoption("--sil-report-window") * NS_PER_S)
        own = next((a for a in launched if a.process is getattr(target, "process", None)), None)
        if own is None:  # inproc, udp://: the sim goes on; ask it for its stats
            text.append(failure_report.write(target, tmp_path / "sil-report", window_ns, last))
            text.append(f"sim stats: {_stats_text(target)}")
        else:  # a launched sim: stopped first, so its recording is complete
            own.process.stop()
            text.append(failure_report.write(target, tmp_path / "sil-report", window_ns, last, own.recording))
    target_process = None if target_of_test is None else getattr(target_of_test[0], "process", None)
    for artefacts in launched:
        # The test is over; stopping now completes the recording and puts
        # the sim's exit statistics (its stopped line) into the report.
        # Teardown's stop() is a no-op.
        artefacts.process.stop()
        report.sections.append(("sil-sim stderr", _without_stopped_line(artefacts.process.stderr_text())))
        # The sil target's window replaces the recording's last messages: its count and any damage stay.
        text.append(artefacts.report(0 if artefacts.process is target_process else last))
    report.sections.append(("sil artefacts", "\n".join(text)))


def _stats_text(target) -> str:
    """The sim's counters as one JSON line, asked for with a short guard: a
    hung sim must not hold the report up for the whole wall timeout."""
    try:
        stats = target._stats(_WallGuard(min(STATS_WALL_LIMIT_S, target.wall_timeout), "stats() for the report"))
    except Exception as error:  # noqa: BLE001 - the report says why there are none
        return f"(not available: {error})"
    return json.dumps(dataclasses.asdict(stats))


def _without_stopped_line(stderr: str) -> str:
    """The sim's stderr without its stopped line, which the report shows."""
    lines = stderr.splitlines()
    if lines and stopped_line_report(lines[-1]) is not None:
        lines = lines[:-1]
    return "\n".join(lines) or "(empty)"
