"""The pytest plugin, exercised by running pytest on small scenario files."""

import pytest

from sil import SimProcess

pytest_plugins = ["pytester"]


@pytest.fixture
def run(pytester, sil_sim_path):
    def run(source, *args):
        pytester.makepyfile(source)
        # The plugin comes in through its entry point, as in a user's run.
        return pytester.runpytest_subprocess("-p", "no:cacheprovider", "--sil-sim", str(sil_sim_path), *args)
    return run


def test_fixtures_give_a_ready_sim_and_connected_clients(run):
    result = run("""
        import sil

        def test_two_harnesses(sim, sil_client, sil_client_factory):
            assert sim.is_running() and sim.port == sim.ready["port"]
            assert sil_client.address == ("127.0.0.1", sim.port)
            other = sil_client_factory()
            assert other.address == sil_client.address
            assert other.local_address != sil_client.local_address
            assert other.revision().catalogue_hash == sil.catalogue_hash
    """)
    result.assert_outcomes(passed=1)


def test_each_test_gets_a_fresh_sim(run):
    result = run("""
        pids = []

        def test_one(sim):
            pids.append(sim.pid)

        def test_two(sim):
            pids.append(sim.pid)
            assert pids[0] != pids[1]
    """)
    result.assert_outcomes(passed=2)


def test_failing_test_report_carries_the_sim_stderr(run):
    result = run("""
        def test_fails(sim):
            assert False, "scenario failed"
    """)
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "sil-sim stderr" in output
    assert "listening on 127.0.0.1" in output
    # The sim is stopped before the report is made, so its counters are in it.
    assert '"event": "stopped"' in output


def test_passing_test_has_no_stderr_section(run):
    result = run("""
        def test_passes(sim):
            pass
    """, "-rA")
    result.assert_outcomes(passed=1)
    assert "sil-sim stderr" not in result.stdout.str()


def test_rate_option_is_passed_to_the_sim(run):
    result = run("""
        def test_rate(sim, sil_client):
            assert sim.ready["rate_hz"] == 50
            assert sil_client.revision().tick_rate_hz == 50
    """, "--sil-rate", "50")
    result.assert_outcomes(passed=1)


def test_sim_that_dies_during_the_test_fails_it(run):
    result = run("""
        import signal

        def test_kills_sim(sim):
            sim.send_signal(signal.SIGKILL)
            sim.wait(timeout=5)
    """)
    result.assert_outcomes(passed=1, errors=1)
    assert "sil-sim exited with status -9" in result.stdout.str()


def test_missing_sim_binary_says_how_to_build_it(pytester):
    pytester.makepyfile("""
        def test_needs_sim(sim):
            pass
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--sil-sim", "/nonexistent/sil-sim")
    result.assert_outcomes(errors=1)
    output = result.stdout.str()
    assert "sil-sim not found at /nonexistent/sil-sim" in output
    assert "cmake --build" in output


def test_default_sim_path_is_the_build_tree_of_the_package(pytester, monkeypatch, sil_sim_path):
    monkeypatch.delenv("SIL_SIM", raising=False)
    pytester.makepyfile("""
        from pathlib import Path
        import sil

        def test_path(sil_sim_path):
            assert sil_sim_path == Path(sil.__file__).resolve().parents[2] / "bin" / "sil-sim"
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


# -- the sil fixture and --sil-target ---------------------------------------

SCENARIO = """
    import sil as sil_api
    from sil import Heartbeat, RevisionRequest, RevisionResponse

    def test_scenario(sil):
        assert sil.kind == {kind!r}
        assert sil.request(RevisionRequest(request_id=1), RevisionResponse, within=sil.ms(10)).request_id == 1
        assert sil.expect(Heartbeat, where={{"sequence": 2}}, within=sil.s(1)).sim_time_ns == 200_000_000
        assert sil.now_ns == 210_000_000
"""


@pytest.mark.parametrize("kind", ["inproc", "process"])
def test_sil_fixture_drives_the_target_the_option_names(run, kind):
    result = run(SCENARIO.format(kind=kind), f"--sil-target={kind}")
    result.assert_outcomes(passed=1)
    assert f"sil target: {kind}" in result.stdout.str()


def test_default_target_is_a_launched_sim(run):
    result = run(SCENARIO.format(kind="process"))
    result.assert_outcomes(passed=1)


def test_udp_target_attaches_to_a_running_sim_and_leaves_it_running(run, sil_sim_path, tmp_path):
    with SimProcess(sil_sim_path, ["--port", "0", "--clock", "step"], log_dir=tmp_path) as process:
        result = run(SCENARIO.format(kind="udp"), f"--sil-target=udp://127.0.0.1:{process.port}")
        result.assert_outcomes(passed=1)
        assert process.is_running()


@pytest.mark.parametrize("spec", ["nowhere", "udp://127.0.0.1", "udp://:5", "udp://host:70000"])
def test_a_bad_target_is_a_usage_error(run, spec):
    result = run("def test_nothing(): pass", f"--sil-target={spec}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "is not inproc, process or udp://HOST:PORT" in result.stderr.str()


def test_network_tests_are_skipped_in_process_with_a_reason(run):
    source = """
        import pytest

        @pytest.mark.network
        def test_needs_a_socket(sim):
            pass

        def test_runs_anywhere(sil):
            pass
    """
    result = run(source, "--sil-target=inproc", "-rs")
    result.assert_outcomes(passed=1, skipped=1)
    assert "needs a real sil-sim on a socket (marked network)" in result.stdout.str()
    run(source, "--sil-target=process").assert_outcomes(passed=2)


def test_sil_clock_marker_picks_the_clock_of_a_launched_sim(run):
    source = """
        import pytest
        from sil import Heartbeat

        @pytest.mark.sil_clock("realtime")
        def test_realtime(sil):
            assert sil.clock == "realtime" and not sil.stepped
            sil.expect(Heartbeat, within=sil.s(1))

        def test_default(sil):
            assert getattr(sil, "clock", "step") == "step"
    """
    run(source, "--sil-target=process").assert_outcomes(passed=2)
    run(source, "--sil-target=inproc").assert_outcomes(passed=1, skipped=1)


def test_failing_scenario_on_a_launched_sim_carries_its_stderr(run):
    result = run("""
        from sil import OverTemperatureFault

        def test_fails(sil):
            sil.expect(OverTemperatureFault, within=sil.ms(30))
    """)
    result.assert_outcomes(failed=1)
    output = result.stdout.str()
    assert "SilTimeout: no OverTemperatureFault within 30 ms of simulated time" in output
    assert "sil-sim stderr" in output and '"event": "stopped"' in output


def test_wall_timeout_option_reaches_the_target(run):
    result = run("""
        def test_guard(sil):
            assert sil.wall_timeout == 2.5
    """, "--sil-wall-timeout", "2.5")
    result.assert_outcomes(passed=1)
