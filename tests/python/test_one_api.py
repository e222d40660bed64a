"""One Python API: (host, port) in that order everywhere; wall-clock guards
are wall_timeout= and budgets of simulated time within=, and a wait given the
other kind is an error that says which is which; the earlier spellings work
for one release with a DeprecationWarning (docs/scenarios.md "One API")."""

import warnings

import pytest

import sil
from sil import Heartbeat, SilTimeout, SimClient, SimProcess
from sil.targets import InprocTarget
from test_client import fake_sim  # noqa: F401 (the fixture)


@pytest.fixture
def port(fake_sim):
    """A socket that plays the sim: the client only needs somewhere to send."""
    return fake_sim


def heartbeats(sock, client, *sequences):
    for sequence in sequences:
        sock.sendto(sil.encode(Heartbeat(sequence=sequence, tick=sequence, sim_time_ns=0)), client.local_address)


def test_host_then_port_warns_nothing(port):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with SimClient("127.0.0.1", port.getsockname()[1], wall_timeout=1.5) as client:
            assert client.address == ("127.0.0.1", port.getsockname()[1])
            assert client.wall_timeout == 1.5


@pytest.mark.parametrize("args, kwargs, wall_timeout", [
    ((), {}, 2.0),                           # SimClient(port)
    (("127.0.0.1",), {}, 2.0),               # SimClient(port, host)
    (("127.0.0.1", 0.75), {}, 0.75),         # SimClient(port, host, timeout)
    ((), {"timeout": 0.5}, 0.5),             # SimClient(port, timeout=)
])
def test_the_old_port_first_spelling_still_works_with_a_deprecation_warning(port, args, kwargs, wall_timeout):
    number = port.getsockname()[1]
    with pytest.warns(DeprecationWarning, match=r"SimClient\(host, port\)"):
        client = SimClient(number, *args, **kwargs)
    with client:
        assert client.address == ("127.0.0.1", number)
        assert client.wall_timeout == wall_timeout
        heartbeats(port, client, 1)
        assert client.expect(Heartbeat).sequence == 1


def test_timeout_is_the_deprecated_spelling_of_wall_timeout(port):
    with pytest.warns(DeprecationWarning, match=r"wall_timeout=.*wall-clock seconds"):
        client = SimClient("127.0.0.1", port.getsockname()[1], timeout=0.25)
    with client:
        assert client.wall_timeout == 0.25
        with pytest.warns(DeprecationWarning, match=r"SimClient\.expect\(wall_timeout=\.\.\.\)"):
            with pytest.raises(SilTimeout, match="within 0.01 s"):
                client.expect(Heartbeat, timeout=0.01)
        with pytest.raises(TypeError, match="wall_timeout= only"):
            client.expect(Heartbeat, timeout=0.01, wall_timeout=0.01)


def test_a_client_given_a_simulated_time_budget_says_it_waits_in_wall_clock_time(port):
    with SimClient("127.0.0.1", port.getsockname()[1]) as client:
        for wait in (lambda: client.expect(Heartbeat, within=sil.ms(10)),
                     lambda: client.revision(within=sil.ms(10))):
            with pytest.raises(TypeError, match=r"wall-clock time \(wall_timeout=, seconds\); within= is a budget of "
                                                r"simulated time"):
                wait()


def test_a_target_given_a_wall_clock_timeout_says_it_waits_in_simulated_time():
    with InprocTarget(100) as target:
        for keyword in ("timeout", "wall_timeout"):
            with pytest.raises(TypeError, match=rf"a target waits in simulated time: within=.*not {keyword}="):
                target.expect(Heartbeat, **{keyword: 1.0})
        with pytest.raises(TypeError, match="a target waits in simulated time"):
            target.request(sil.RevisionRequest(request_id=1), sil.RevisionResponse, timeout=1.0)
        assert target.now_ns == 0  # nothing ran


def test_where_takes_field_values_on_a_client_as_on_a_target(port):
    with SimClient("127.0.0.1", port.getsockname()[1], wall_timeout=1.0) as client:
        heartbeats(port, client, 1, 2, 3)
        assert client.expect(Heartbeat, where={"sequence": 2}).sequence == 2
        assert client.expect(Heartbeat, where=lambda hb: hb.sequence > 2).sequence == 3
        assert client.expect(Heartbeat, where={"sequence": 1}).sequence == 1
        with pytest.raises(SilTimeout, match=r"Heartbeat with sequence == 9"):
            client.expect(Heartbeat, where={"sequence": 9}, wall_timeout=0.01)
        with pytest.raises(TypeError, match=r"Heartbeat has no field 'seq' \(fields: sequence, tick, sim_time_ns\)"):
            client.expect(Heartbeat, where={"seq": 1})
        with pytest.raises(TypeError, match="once"):
            client.expect(Heartbeat, lambda hb: True, where={"sequence": 1})


def test_misordered_arguments_are_a_clear_error():
    with pytest.raises(TypeError, match=r"host is a str and port an int"):
        SimClient("127.0.0.1")
    with pytest.raises(TypeError, match=r"host is a str and port an int"):
        SimClient("127.0.0.1", "5000")


def test_step_link_takes_wall_timeout_and_still_knows_timeout(sil_sim_path, tmp_path):
    with SimProcess(sil_sim_path, ["--port", "0", "--clock", "step"], log_dir=tmp_path) as sim:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with sil.StepLink("127.0.0.1", sim.port, wall_timeout=7.0) as link:
                assert link.wall_timeout == 7.0
        with pytest.warns(DeprecationWarning, match=r"StepLink\(wall_timeout=\.\.\.\)"):
            link = sil.StepLink("127.0.0.1", sim.port, timeout=6.0)
        with link:
            assert link.wall_timeout == 6.0
