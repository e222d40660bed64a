"""Which compiled system module the sil package drives (sil._system):
$SIL_MODULE, sil.use_system(), and the pytest plugin's --sil-module and
ini settings sil_module and sil_sim. A selection only holds before first
use, so each one is tried in a fresh interpreter; the test process itself
already uses the system module the suite runs with ($SIL_MODULE, else
sil._core). RevisionRequest is in every system, so it stands for "a message
class"."""

import os
import subprocess
import sys
import textwrap
import types

import pytest

import sil

pytest_plugins = ["pytester"]

# The module this process uses (the test suite's, the thermal example's under ctest).
SYSTEM = os.environ.get("SIL_MODULE") or "sil._core"

# A system module as a user's build would make one: the framework's API,
# with an InprocSim and a StepLinkCore of its own so a test can tell which
# module the package used.
FAKE_SYSTEM = '''
import sil._core as _framework
from sil._core import *  # noqa: F401,F403


class InprocSim(_framework.InprocSim):
    made = 0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        type(self).made += 1


class StepLinkCore(_framework.StepLinkCore):
    pass
'''

# Importable, but not a system module.
NOT_A_SYSTEM = "MsgId = int\n"


@pytest.fixture
def python(tmp_path):
    """Runs code in a fresh interpreter that can import fake_system and
    not_a_system; returns the CompletedProcess."""
    (tmp_path / "fake_system.py").write_text(FAKE_SYSTEM)
    (tmp_path / "not_a_system.py").write_text(NOT_A_SYSTEM)

    def run(code: str, **env) -> subprocess.CompletedProcess:
        environment = {key: value for key, value in os.environ.items() if key != "SIL_MODULE"}
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmp_path), *sys.path]))
        environment.update(env)
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=environment, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)

    return run


def passes(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stderr


# -- in a fresh interpreter ---------------------------------------------------

def test_importing_sil_and_its_modules_uses_no_system_module(python):
    passes(python("""
        import sys
        import sil, sil.pytest_plugin, sil.recording, sil.rec, sil.artefacts, sil.targets, sil.step
        import sil.transport, sil._stubgen
        assert "sil._core" not in sys.modules, "a module touched the compiled code at import"
        from sil import RevisionRequest
        assert sys.modules["sil._core"].RevisionRequest is RevisionRequest
    """))


def test_sil_module_names_the_default_system(python):
    passes(python("""
        import fake_system, sil
        assert sil.system_module() is fake_system
        assert sil.RevisionRequest is fake_system.RevisionRequest and sil.catalogue_hash == fake_system.catalogue_hash
        sil.InprocTarget().advance(ticks=1)
        assert fake_system.InprocSim.made == 1
        assert issubclass(sil.StepLink, fake_system.StepLinkCore)
    """, SIL_MODULE="fake_system"))


def test_use_system_before_first_use_wins_over_the_environment(python):
    passes(python("""
        import fake_system, sil
        assert sil.use_system("fake_system") is fake_system
        from sil import RevisionRequest, StepLink
        assert sil.system_module() is fake_system and issubclass(StepLink, fake_system.StepLinkCore)
        assert sil.use_system(fake_system) is fake_system, "selecting the module in use again is allowed"
    """, SIL_MODULE="no_such_system_module"))


def test_a_selection_before_first_use_can_still_be_changed(python):
    passes(python("""
        import sil, fake_system
        sil.use_system("fake_system")
        sil.use_system("sil._core")
        assert sil.system_module().__name__ == "sil._core"
    """))


def test_a_missing_module_in_sil_module_is_a_clear_error_at_first_use(python):
    result = python("""
        import sil
        try:
            sil.RevisionRequest
        except sil.SystemModuleError as error:
            print(error)
        else:
            raise AssertionError("no error")
    """, SIL_MODULE="no_such_system_module")
    passes(result)
    assert "cannot import the system module 'no_such_system_module' (named by $SIL_MODULE)" in result.stdout


# -- in this process (already on SYSTEM) -------------------------------------

def test_another_module_after_first_use_is_refused():
    other = types.ModuleType("other_system")
    other.__dict__.update({name: value for name, value in vars(sil.system_module()).items()
                           if not name.startswith("__")})
    assert sil.use_system(SYSTEM) is sil.system_module()
    with pytest.raises(sil.SystemInUseError, match=f"'{SYSTEM}' is already in use .* select the system before"):
        sil.use_system(other)
    assert sil.system_module().__name__ == SYSTEM


def test_a_module_that_does_not_exist_is_a_clear_error():
    with pytest.raises(sil.SystemModuleError, match="cannot import the system module 'no_such_system_module'"):
        sil.use_system("no_such_system_module")


def test_a_module_without_the_api_is_a_clear_error():
    with pytest.raises(sil.SystemModuleError, match="'json' .* is not a sil system module: it lacks BUNDLE_ID"):
        sil.use_system("json")
    assert isinstance(sil.SystemModuleError("x"), ImportError)


@pytest.mark.parametrize("bad", ["", 3, None])
def test_use_system_takes_a_name_or_a_module(bad):
    with pytest.raises(TypeError, match="module name or a module"):
        sil.use_system(bad)


def test_sil_forwards_the_system_api_and_says_what_it_lacks():
    system = sil.system_module()
    assert sil.RevisionRequest is system.RevisionRequest and sil.MAX_BUNDLE_BYTES == system.MAX_BUNDLE_BYTES
    assert "RevisionRequest" in sil.__all__ and "StepLink" in sil.__all__ and "ms" not in sil.__all__
    assert {"RevisionRequest", "InprocTarget", "use_system"} <= set(dir(sil))
    with pytest.raises(AttributeError, match=f"no attribute 'NoSuchThing' .*nor has the system module '{SYSTEM}'"):
        sil.NoSuchThing


# -- the pytest plugin ----------------------------------------------------------

@pytest.fixture
def scenario(pytester, monkeypatch):
    monkeypatch.delenv("SIL_MODULE", raising=False)
    pytester.makepyfile(fake_system=FAKE_SYSTEM, not_a_system=NOT_A_SYSTEM)
    pytester.makepyfile(test_scenario="""
        import fake_system
        import sil as sil_package

        def test_uses_the_fake_system(sil):
            sil.advance(ticks=1)
            assert sil_package.system_module() is fake_system
            assert fake_system.InprocSim.made == 1
    """)

    def run(*args):
        return pytester.runpytest_subprocess("-p", "no:cacheprovider", "--sil-target=inproc", *args)

    return run


def test_the_option_selects_the_module(scenario):
    scenario("--sil-module", "fake_system").assert_outcomes(passed=1)


def test_without_a_selection_the_default_stands(scenario):
    scenario().assert_outcomes(failed=1)


def test_the_ini_setting_selects_the_module_and_the_option_overrides_it(pytester, scenario):
    pytester.makeini("[pytest]\nsil_module = fake_system\n")
    scenario().assert_outcomes(passed=1)
    pytester.makeini("[pytest]\nsil_module = no_such_system_module\n")
    scenario("--sil-module", "fake_system").assert_outcomes(passed=1)


def test_the_module_is_selected_before_conftest_files_are_imported(pytester, scenario):
    pytester.makeconftest("""
        import fake_system
        from sil import RevisionRequest

        assert RevisionRequest is fake_system.RevisionRequest
    """)
    scenario("--sil-module", "fake_system").assert_outcomes(passed=1)


@pytest.mark.parametrize("args, ini, text", [
    (["--sil-module", "no_such_system_module"], "",
     "--sil-module: cannot import the system module 'no_such_system_module'"),
    (["--sil-module", "not_a_system"], "", "is not a sil system module: it lacks BUNDLE_ID"),
    ([], "[pytest]\nsil_module = not_a_system\n", "the ini setting sil_module: the system module 'not_a_system'"),
])
def test_a_module_that_cannot_be_used_is_a_usage_error(pytester, scenario, args, ini, text):
    if ini:
        pytester.makeini(ini)
    result = scenario(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert text in result.stderr.str()


def test_the_sim_path_comes_from_the_option_then_the_ini_then_sil_sim(pytester, sil_sim_path, monkeypatch):
    pytester.makepyfile("""
        def test_path(sil_sim_path):
            print("SIM PATH", sil_sim_path)
    """)
    monkeypatch.setenv("SIL_SIM", "/from/the/environment/sil-sim")

    def sim_path(*args):
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-s", *args)
        return next(line.split("SIM PATH ", 1)[1] for line in result.outlines if "SIM PATH " in line) \
            if result.ret == 0 else result.stdout.str()

    assert "/from/the/environment/sil-sim" in sim_path()
    pytester.makeini("[pytest]\nsil_sim = bin/sil-sim-from-ini\n")
    assert f"sil-sim not found at {pytester.path}/bin/sil-sim-from-ini" in sim_path()
    pytester.makeini(f"[pytest]\nsil_sim = {sil_sim_path}\n")
    assert sim_path() == str(sil_sim_path)
    pytester.makeini("[pytest]\nsil_sim = /from/the/ini/sil-sim\n")
    assert sim_path("--sil-sim", str(sil_sim_path)) == str(sil_sim_path)
