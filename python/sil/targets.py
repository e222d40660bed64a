"""Targets: what a scenario drives. One verb set, with the same meaning on
every target:

  inject(msg)                       publish msg on the sim's bus now, at the
                                    current tick boundary
  inject_raw(data)                  hand data to the sim as a datagram from
                                    the network, valid or not
  request(req, ResponseType, within=)
                                    inject req, expect the ResponseType with
                                    its request_id
  expect(Type, where=None, within=) the next Type message (matching where),
                                    running simulated time until one is
                                    published, for at most `within`
  advance(duration | ms= | ticks=)  let simulated time pass
  history(Type=None)                everything the services published
  records()                         the same as (sim time, MsgId, payload)
  time_of(msg)                      when msg was published (simulated ns)
  stats()                           the sim's counters and trace digest
  now_ns                            simulated time of the next tick

Time budgets are simulated time: ``sil.ms(250)``, ``sil.s(2)`` (or a
``datetime.timedelta``). Running out of one fails the test with
``SilTimeout`` (an AssertionError) that says what was awaited and what was
published instead. Separately, a wall-clock guard (``wall_timeout``, 30 s by
default) catches a sim that stopped answering: ``SimHungError``, which is
about the sim, never about the condition.

The targets:
  InprocTarget           the services and bus in this process (the system
                         module's InprocSim, see sil._system)
  ProcessTarget          a sil-sim launched for the target, by default with
                         --clock step: time moves only when the target says so
  NetworkTarget          a sim (or rig) already running at HOST:PORT; on a step
                         clock it is driven like ProcessTarget, on a realtime
                         or fast clock the verbs wait in wall time

Each target has a module of its own (target_inproc, target_network,
target_process; what they share in target_base); this one gathers them, so
``from sil.targets import ProcessTarget`` is where to find them.

Which messages expect() considers: those published after the point the test
has reached, in bus order. That point is the end of the last advance(), or
the message the last expect() had to wait for; messages published at the
current tick boundary (e.g. the response to what you just injected) count,
and expect() never returns a message twice. history() has everything.
"""

from __future__ import annotations

from typing import Optional

from sil.target_base import (
    DEFAULT_RATE_HZ,
    DEFAULT_WALL_TIMEOUT,
    DEFAULT_WITHIN,
    VERDICTS,
    Received,
    SimAttachError,
    SimHungError,
    Stats,
    Target,
    ns_at,
    ticks_for,
)
from sil.target_inproc import InprocTarget
from sil.target_network import CatalogueMismatchWarning, NetworkTarget
from sil.target_process import ProcessTarget
from sil.transport import bundle_request

__all__ = [
    "CatalogueMismatchWarning",
    "DEFAULT_RATE_HZ",
    "DEFAULT_WALL_TIMEOUT",
    "DEFAULT_WITHIN",
    "InprocTarget",
    "NetworkTarget",
    "ProcessTarget",
    "Received",
    "SimAttachError",
    "SimHungError",
    "Stats",
    "Target",
    "VERDICTS",
    "bundle_request",
    "ns_at",
    "parse_target",
    "ticks_for",
]


def parse_target(spec: str) -> tuple[str, Optional[tuple[str, int]]]:
    """'inproc', 'process' or 'udp://HOST:PORT' -> (kind, address)."""
    if spec in ("inproc", "process"):
        return spec, None
    if spec.startswith("udp://"):
        rest = spec[len("udp://"):]
        host, sep, port_text = rest.rpartition(":")
        if sep and host and port_text.isdigit() and 0 < int(port_text) < 65536:
            return "udp", (host, int(port_text))
    raise ValueError(f"--sil-target: {spec!r} is not inproc, process or udp://HOST:PORT")
