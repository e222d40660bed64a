"""The harness's one UDP link to a sim. NetworkTarget (and so ProcessTarget),
SimClient and sil.StepLink all talk through it, so that a datagram is
received, opened, validated and decoded one way whichever of them reads it,
and a sim is greeted (Hello) one way whichever of them attaches.

``Transport`` is the socket: connected, so the kernel drops datagrams from
anyone but the sim and a sim that is gone shows up as a refusal; blocking,
with waits bounded by SO_RCVTIMEO, because a blocking receive is what makes
a reply cost one system call (and what the system module's Receiver and
StepLinkCore, which take its descriptor, require).

The datagram functions (``message_id``, ``decode``) are the one validator
and decoder: the system module's compiled classes (its decode()), or a
sil.Decoder for a sim built from another catalogue.
"""

from __future__ import annotations

import ipaddress
import itertools
import math
import os
import select
import socket
import struct
import time
from typing import Callable, Iterator, Optional, Sequence

from sil import control
from sil._system import system_module
from sil.control import ControlError, pb

# Larger than any datagram, so an oversized one is seen whole and recorded
# as undecodable instead of being cut to something that might decode.
RECEIVE_SIZE = 65536
# Bounds the datagrams read in one go, so a flood cannot starve a deadline check.
RECEIVE_BATCH = 1024
# SO_RCVBUF the targets and StepLink ask for: room for a stepped sim's
# burst while this process is busy elsewhere. The kernel caps it at
# net.core.rmem_max; less only means shorter advances.
RECEIVE_BUFFER_REQUEST = 8 << 20
# A wait blocks in recv for at most this long at a time, so a long wait
# still checks its deadline; shorter only for its last stretch.
WAIT_SLICE = 0.05
# A request that changes nothing is sent again when its reply is this late
# (then twice as late, ...).
RESEND_AFTER = 0.2
# The longest a control call waits before its caller may look at the sim
# (e.g. whether the process exited).
CALL_SLICE = 0.25
# Bundles asked for in Hello (docs/wire-format.md "Bundles"): as large as UDP allows on
# loopback, one Ethernet frame's payload elsewhere (no IP fragments).
NETWORK_BUNDLE_BYTES = 1472
# Requests that change nothing in the sim, so sending one twice is harmless.
_REPEATABLE = frozenset({"hello", "get_stats", "get_catalogue", "get_params", "list_faults"})


class Transport:
    """One connected UDP socket to the sim at (host, port). Not thread-safe.

    gone() makes the error raised when the sim refuses a datagram (nothing
    listens there any more): each user words it for its own callers. None
    leaves the ConnectionRefusedError as it is."""

    def __init__(self, host: str, port: int, *, gone: Optional[Callable[[], BaseException]] = None,
                 bind: tuple[str, int] = ("127.0.0.1", 0), receive_buffer: Optional[int] = None) -> None:
        self.address = (host, port)
        self._gone = gone
        self._system = system_module()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind(bind)
            if receive_buffer is not None:
                try:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
                except OSError:
                    pass  # the default buffer works too, only smaller
            sock.connect(self.address)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self._poll = select.poll()
        self._poll.register(sock, select.POLLIN)
        self._buffer = bytearray(RECEIVE_SIZE)
        self._view = memoryview(self._buffer)
        self._wait_slice_us = 0
        self._sequences = itertools.count(1)
        self.bundles = 0  # bundles received
        self.closed = False

    def fileno(self) -> int:
        return self.sock.fileno()

    @property
    def local_address(self) -> tuple[str, int]:
        return self.sock.getsockname()

    @property
    def receive_buffer(self) -> int:
        """SO_RCVBUF as the kernel granted it."""
        return self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)

    def kernel_drops(self) -> int:
        """Datagrams the kernel dropped for this socket (Linux /proc/net/udp),
        or 0 when that cannot be read."""
        try:
            inode = os.fstat(self.sock.fileno()).st_ino
            with open("/proc/net/udp") as table:
                next(table)
                for line in table:
                    columns = line.split()
                    if len(columns) > 12 and columns[9] == str(inode):
                        return int(columns[12])
        except (OSError, ValueError, StopIteration):
            pass
        return 0

    # -- sending ---------------------------------------------------------

    def send(self, data) -> None:
        """Sends bytes as one datagram."""
        try:
            self.sock.send(data)
        except ConnectionRefusedError as error:
            if self._gone is None:
                raise
            raise self._gone() from error

    # -- receiving -------------------------------------------------------

    def receive(self, deadline: Optional[float]) -> Optional[memoryview]:
        """One datagram, waiting until deadline (time.monotonic()), or with
        None only if one is already there; None when none came. The view is
        of a buffer the next receive overwrites."""
        try:
            if deadline is None:
                length = self.sock.recv_into(self._buffer, RECEIVE_SIZE, socket.MSG_DONTWAIT)
            else:
                length = self._receive_until(deadline)
        except BlockingIOError:
            return None
        except ConnectionRefusedError as error:
            if self._gone is None:
                raise
            raise self._gone() from error
        return self._view[:length]

    def datagrams(self, timeout: float) -> Iterator[memoryview]:
        """What arrives: the first datagram waited for up to timeout seconds,
        then those already there (at most RECEIVE_BATCH). Each view is
        valid until the next one is taken."""
        deadline = time.monotonic() + timeout if timeout > 0 else None
        for _ in range(RECEIVE_BATCH):
            datagram = self.receive(deadline)
            if datagram is None:
                return
            yield datagram
            deadline = None

    def readable(self) -> bool:
        """Whether a datagram waits in the socket, without reading it."""
        return bool(self._poll.poll(0))

    def opened(self, datagram) -> Sequence:
        """The datagrams datagram carries: a bundle's items in order
        (docs/wire-format.md "Bundles"), or datagram itself. Raises DecodeError for a malformed
        bundle."""
        if len(datagram) >= 2 and datagram[0] | datagram[1] << 8 == self._system.BUNDLE_ID:
            self.bundles += 1
            return self._system.unbundle(datagram)
        return (datagram,)

    def _receive_until(self, deadline: float) -> int:
        # One blocking recv bounded by SO_RCVTIMEO, as a raw client would
        # wait: a reply then costs one system call, not a poll and a recv.
        while True:
            self._set_wait_slice(min(deadline - time.monotonic(), WAIT_SLICE))
            try:
                return self.sock.recv_into(self._buffer)
            except BlockingIOError:  # SO_RCVTIMEO ran out
                if time.monotonic() >= deadline:
                    raise

    def _set_wait_slice(self, seconds: float) -> None:
        # Set only when it changes (a wait near its deadline): one system
        # call fewer per wait.
        micros = max(1, math.ceil(seconds * 1e6))
        if micros != self._wait_slice_us:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                                 struct.pack("ll", micros // 1_000_000, micros % 1_000_000))
            self._wait_slice_us = micros

    # -- control requests ------------------------------------------------

    def call(self, command: str, body, seconds: float, pump: Callable[[float, Sequence[int]], Optional[pb.Reply]],
             between: Optional[Callable[[], None]] = None) -> Optional[pb.Reply]:
        """Sends the control request `command` (a field of sil.control.Request)
        with body, and returns the reply that echoes its sequence, or None
        when none comes within `seconds` of wall time. An error reply raises
        ControlError.

        pump(wait, sequences) receives for up to wait seconds and returns a
        reply carrying one of sequences as soon as it is read; whatever else
        arrives is the caller's to keep. between() runs after each wait that
        brought no reply (a caller that can tell a dead sim raises there).

        A request that changes nothing is sent again when its reply is
        late: a free-running sim can flood this socket, and a reply dropped
        with the flood must not read as a hung sim. An Advance is never
        repeated."""
        deadline = time.monotonic() + seconds
        repeatable = command in _REPEATABLE
        sequences: list[int] = []
        resend_at = 0.0
        for _ in range(1_000_000):
            if not sequences or (repeatable and time.monotonic() >= resend_at):
                sequences.append(next(self._sequences) & 0xFFFFFFFF)
                self.send(control.encode_request(sequences[-1], **{command: body}))
                resend_at = time.monotonic() + RESEND_AFTER * len(sequences)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            wait = min(remaining, CALL_SLICE, max(resend_at - time.monotonic(), 0.0) if repeatable else CALL_SLICE)
            reply = pump(wait, sequences)
            if reply is not None:
                if reply.WhichOneof("result") == "error":
                    raise ControlError(describe(command, body), control.error_name(reply.error.code),
                                       reply.error.message)
                return reply
            if between is not None:
                between()
        return None

    # -- lifetime --------------------------------------------------------

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.sock.close()


def describe(command: str, body) -> str:
    """'Advance(ticks=5)': a request for error messages."""
    return control.describe(pb.Request(**{command: body}))


# -- datagrams ----------------------------------------------------------------

def is_control_reply(datagram) -> bool:
    return len(datagram) >= 2 and datagram[0] | datagram[1] << 8 == control.CONTROL_REPLY_ID


def message_id(datagram, decoder) -> int:
    """The MsgId of datagram, a data datagram of the length decoder's
    catalogue (a sil.Decoder) gives that MsgId; raises DecodeError (verdict
    too_short, unknown_id or wrong_size) for any other."""
    length = len(datagram)
    if length < 2:
        system_module().decode(datagram)  # raises too_short, worded as the compiled decoder words it
        raise decode_error("too_short", f"datagram of {length} bytes is shorter than its 2-byte MsgId", length, None)
    msg_id = datagram[0] | datagram[1] << 8
    size = decoder.size_of(msg_id)
    if size is None or length != 2 + size:
        verdict = "unknown_id" if size is None else "wrong_size"
        raise decode_error(verdict, f"MsgId {msg_id}, datagram of {length} bytes, per the sim's catalogue",
                           length, msg_id)
    return msg_id


def decode(datagram, decoder=None):
    """The message in datagram (bytes-like): with decoder None by this
    build's compiled classes, else by decoder (a sil.Decoder: the sim's
    catalogue). Raises DecodeError."""
    if decoder is None:
        return system_module().decode(datagram)
    return decoder.decode(message_id(datagram, decoder), datagram[2:])


def decode_error(verdict: str, detail: str, length: int, msg_id: Optional[int]):
    """A DecodeError (the system module's) that carries verdict, length and
    msg_id as the compiled decoder's do."""
    error = system_module().DecodeError(f"{verdict}: {detail}")
    error.verdict, error.length, error.msg_id = verdict, length, msg_id
    return error


# -- Hello ----------------------------------------------------------------

class Hello:
    """The greeting a harness attaches with: the system module's catalogue
    hash and the bundles it asks for (docs/wire-format.md "Bundles"): bundle_bytes as given, or
    for None the largest UDP datagram on loopback and one Ethernet frame's
    payload elsewhere. Raises ValueError for anything that is not a byte
    count."""

    def __init__(self, host: str, port: int, bundle_bytes: Optional[int]) -> None:
        self.where = f"the sim at {host}:{port}"
        self.catalogue_hash = system_module().catalogue_hash
        self.request = pb.Hello(catalogue_hash=self.catalogue_hash, bundle_bytes=bundle_request(host, bundle_bytes))

    def catalogue_matches(self, theirs: int) -> bool:
        return theirs == self.catalogue_hash

    def mismatch(self) -> str:
        """The start of every message about a sim with another catalogue."""
        return f"{self.where} was built from a different message catalogue"


def bundle_request(host: str, bundle_bytes: Optional[int]) -> int:
    """What a Hello to host asks for: see Hello."""
    if bundle_bytes is None:
        return system_module().MAX_BUNDLE_BYTES if _is_loopback(host) else NETWORK_BUNDLE_BYTES
    if isinstance(bundle_bytes, bool) or not isinstance(bundle_bytes, int) or not 0 <= bundle_bytes <= 0xFFFFFFFF:
        raise ValueError(f"bundle_bytes must be None, 0 (no bundles) or a datagram size in bytes, "
                         f"got {bundle_bytes!r}")
    return bundle_bytes


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(socket.gethostbyname(host)).is_loopback
    except (OSError, ValueError):
        return False
