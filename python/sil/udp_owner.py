"""Which process on this machine owns a UDP port, and whether it runs: how a
harness tells a stopped sim (SIGSTOP, a debugger) from one that runs and
answers nothing, when all it sees on the socket is silence. Linux /proc
only; anything it cannot read gives None, never an error."""

from __future__ import annotations

import os
import socket
from typing import NamedTuple, Optional

# /proc/<pid>/stat state letters that mean "will not run until resumed".
_STOPPED = {"T": "stopped (SIGSTOP or job control)", "t": "stopped by a debugger"}


class UdpOwner(NamedTuple):
    pid: int
    name: str
    state: str  # the /proc/<pid>/stat letter: R, S, D, T, t, Z, ...

    @property
    def stopped(self) -> Optional[str]:
        """How it is stopped, or None when it may run."""
        return _STOPPED.get(self.state)

    def describe(self) -> str:
        how = self.stopped or ("a zombie" if self.state == "Z" else "running")
        return f"pid {self.pid} ({self.name}) is {how}"


def udp_owner(host: str, port: int) -> Optional[UdpOwner]:
    """The process holding a UDP socket bound to port on host (or on any
    address), when host is this machine's loopback and /proc shows it."""
    try:
        if not socket.inet_aton(socket.gethostbyname(host))[0] == 127:
            return None
        inodes = _socket_inodes(port)
        if not inodes:
            return None
        for pid in filter(str.isdigit, os.listdir("/proc")):
            if _holds(pid, inodes):
                return _owner(int(pid))
    except (OSError, ValueError):
        pass
    return None


def _socket_inodes(port: int) -> set[str]:
    inodes = set()
    with open("/proc/net/udp") as table:
        next(table)
        for line in table:
            columns = line.split()
            local = columns[1]  # ADDR:PORT in hex
            if len(columns) > 9 and int(local.rsplit(":", 1)[1], 16) == port:
                address = int(local.split(":")[0], 16).to_bytes(4, "little")
                if address[0] in (0, 127):  # bound to loopback or to every address
                    inodes.add(columns[9])
    return inodes


def _holds(pid: str, inodes: set[str]) -> bool:
    directory = f"/proc/{pid}/fd"
    try:
        links = os.listdir(directory)
    except OSError:
        return False
    for fd in links:
        try:
            target = os.readlink(f"{directory}/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            return True
    return False


def _owner(pid: int) -> Optional[UdpOwner]:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            text = stat.read()
    except OSError:
        return None
    # pid (comm) state ...: comm may hold spaces and parentheses.
    name = text[text.index("(") + 1:text.rindex(")")]
    state = text[text.rindex(")") + 2:].split()[0]
    return UdpOwner(pid, name, state)
