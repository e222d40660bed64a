"""A harness's side of the UDP bridge: send messages to a sil-sim and wait for
what it sends back.

Every datagram received is kept: decoded messages in ``history()``, the rest in
``undecodable``. Waiting verbs (``expect``, ``request``) consume the message
they return, so two waits never return the same message, and messages that
arrive while waiting for something else stay buffered for a later wait.

For telemetry in bulk, ``ingest()`` starts a receiver on a C++ thread
(the system module's ``Receiver``: recvmmsg with the GIL released); from
then on it is the only reader of the socket, and the waiting verbs read
through it too.

Remember the sim's peer rule: it sends only to the address that last sent it a
valid datagram, so a client receives nothing until it has sent something
(``revision()`` is the usual first call).
"""

from __future__ import annotations

import collections
import itertools
import time
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Callable, Optional, TypeVar

from sil import transport
from sil._system import system_module
from sil.catalogue import check_request_pair
from sil.transport import Transport

if TYPE_CHECKING:  # never at run time: the system module is chosen at first use (sil._system)
    from sil._core import DecodeError, Receiver, RevisionResponse

M = TypeVar("M")

_LAST_SHOWN = 5
# What ingest() asks for: room for some 10 ms of a 400,000 messages/s stream
# in the kernel while the receiving thread is not scheduled. The kernel caps
# it at net.core.rmem_max; Receiver.receive_buffer says what it granted.
_INGEST_RECEIVE_BUFFER = 8 << 20
# While ingesting, a wait also takes what the thread has yet to read from
# the socket: at most this many more takes, each waiting at most this long.
_CATCH_UP_TAKES = 8
_CATCH_UP_WAIT = 0.01


def _where_predicate(msg_type, where, what: Optional[str]):
    """A predicate and its description from where=: {field: value} (each
    field equal) or a callable."""
    if callable(where):
        return where, what
    if not isinstance(where, Mapping):
        raise TypeError(f"where= takes a {{field: value}} mapping or a callable, got {type(where).__name__}")
    items = dict(where)
    fields = [name for name, *_ in msg_type.fields()] if hasattr(msg_type, "fields") else None
    unknown = [name for name in items if fields is not None and name not in fields]
    if unknown:
        raise TypeError(f"where=: {msg_type.__name__} has no field {', '.join(map(repr, unknown))} "
                        f"(fields: {', '.join(fields)})")

    def predicate(msg) -> bool:
        return all(getattr(msg, name) == value for name, value in items.items())

    return predicate, what or ", ".join(f"{name} == {value!r}" for name, value in items.items())


class SilTimeout(AssertionError):
    """A wait ended without the expected message. An AssertionError so pytest
    reports it as a test failure, not an error in the harness."""


DEFAULT_CLIENT_WALL_TIMEOUT = 2.0


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f'{old} is deprecated and goes in the next release; use {new} (docs/scenarios.md "One API")',
                  DeprecationWarning, stacklevel=3)


def wall_timeout_of(wall_timeout: Optional[float], timeout: Optional[float], where: str) -> Optional[float]:
    """wall_timeout=, or the deprecated timeout= spelling of it (not both)."""
    if timeout is None:
        return wall_timeout
    if wall_timeout is not None:
        raise TypeError(f"{where}: give wall_timeout= only (timeout= is its deprecated spelling)")
    _deprecated(f"{where}(timeout=...)", f"{where}(wall_timeout=...): wall-clock seconds")
    return timeout


def _no_within(within, where: str) -> None:
    if within is not None:
        raise TypeError(f"{where}: a SimClient waits in wall-clock time (wall_timeout=, seconds); within= is "
                        "a budget of simulated time, which only a target has (sil.targets)")


class SimClient:
    """One UDP socket talking to the sim at (host, port). Not thread-safe.

    wall_timeout: wall-clock seconds a wait (expect, request, revision) takes
    at most unless it says otherwise. The earlier spelling SimClient(port,
    host, timeout) still works for one release, with a DeprecationWarning."""

    def __init__(
        self,
        host="127.0.0.1",
        port: Optional[int] = None,
        *args,
        wall_timeout: Optional[float] = None,
        timeout: Optional[float] = None,
        bind: tuple[str, int] = ("127.0.0.1", 0),
        decoder=None,
    ) -> None:
        """decoder: a sil.Decoder for a sim built from another catalogue
        (messages this build has no class for, or lays out differently, are
        decoded from that catalogue); None decodes with this build's classes."""
        if isinstance(host, int) and not isinstance(host, bool):  # SimClient(port[, host[, timeout]])
            _deprecated("SimClient(port, host)", "SimClient(host, port), the order every sil API takes")
            host, port, args = (port if port is not None else "127.0.0.1"), host, args
            if args:
                timeout, args = args[0], args[1:]
                if wall_timeout is not None:
                    raise TypeError("SimClient: give wall_timeout= only (the third argument is its old spelling)")
                wall_timeout, timeout = timeout, None
        if args:
            raise TypeError(f"SimClient(host, port) takes 2 positional arguments; the rest are keywords "
                            f"(wall_timeout=, bind=, decoder=), got {2 + len(args)}")
        if not isinstance(host, str) or isinstance(port, bool) or not isinstance(port, int):
            raise TypeError(f"SimClient(host, port): host is a str and port an int, got {host!r}, {port!r}")
        wall_timeout = wall_timeout_of(wall_timeout, timeout, "SimClient")
        self.address = (host, port)
        self._decoder = decoder
        self._system = system_module()
        self.wall_timeout = DEFAULT_CLIENT_WALL_TIMEOUT if wall_timeout is None else wall_timeout
        self._transport = Transport(host, port, bind=bind, gone=self._refused)
        self._history: list = []
        # Unconsumed messages by exact type, each (arrival number, message)
        # in arrival order: a wait looks only at the types it could return,
        # so telemetry piling up in a long session costs it nothing.
        self._pending: dict[type, collections.deque] = {}
        self._arrivals = itertools.count()
        self.undecodable: list[tuple[bytes, DecodeError]] = []
        self._request_ids = itertools.count(1)
        self._request_pairs: set = set()  # (request type, response type) checked by request()
        self._receiver: Optional[Receiver] = None
        self._refused_seen = 0
        self._closed = False

    # -- sending ---------------------------------------------------------

    def send(self, msg) -> None:
        """Sends one message to the sim."""
        self.send_raw(self._system.encode(msg))

    inject = send

    def send_raw(self, data: bytes) -> None:
        """Sends bytes as one datagram, valid or not."""
        self._transport.send(data)

    # -- waiting ---------------------------------------------------------

    @property
    def timeout(self) -> float:
        """Deprecated: wall_timeout."""
        return self.wall_timeout

    @timeout.setter
    def timeout(self, value: float) -> None:
        self.wall_timeout = value

    def expect(
        self,
        msg_type: type[M],
        predicate: Optional[Callable[[M], bool]] = None,
        *args,
        where=None,
        wall_timeout: Optional[float] = None,
        timeout: Optional[float] = None,
        within=None,
        what: Optional[str] = None,
    ) -> M:
        """Returns the first unconsumed msg_type message for which `where`
        holds (a {field: value} mapping, or a callable taking the message, as
        a target's expect takes; `predicate` is the same, positionally),
        waiting up to wall_timeout seconds of wall-clock time for it; raises
        SilTimeout."""
        __tracebackhide__ = True  # pytest: report the failure at the test's line
        _no_within(within, "SimClient.expect()")
        if args:  # expect(msg_type, predicate, timeout): the old positional timeout
            if len(args) > 1 or timeout is not None:
                raise TypeError("SimClient.expect(msg_type, where, *, wall_timeout=): too many positional arguments")
            timeout = args[0]
        if where is not None:
            if predicate is not None:
                raise TypeError("SimClient.expect(): give the condition once: where= or the predicate")
            predicate, what = _where_predicate(msg_type, where, what)
        timeout = wall_timeout_of(wall_timeout, timeout, "SimClient.expect")
        timeout = self.wall_timeout if timeout is None else timeout

        def matches(msg) -> bool:
            return isinstance(msg, msg_type) and (predicate is None or predicate(msg))

        found = self._take_pending(msg_type, predicate)
        if found is not None:
            return found
        deadline = time.monotonic() + timeout
        history_before = len(self._history)
        undecodable_before = len(self.undecodable)
        while True:
            remaining = deadline - time.monotonic()
            # One last non-blocking read after the deadline: a message that
            # is already here counts.
            for msg in self._receive(max(remaining, 0.0)):
                if matches(msg):
                    self._consume(msg)
                    return msg
            if remaining <= 0:
                break
        awaited = msg_type.__name__
        condition = what or _describe_predicate(predicate)
        if condition:
            awaited += f" with {condition}"
        raise SilTimeout(
            self._timeout_message(awaited, timeout, self._history[history_before:],
                                  len(self.undecodable) - undecodable_before)
        )

    def request(self, req, response_type: type[M], *args, wall_timeout: Optional[float] = None,
                timeout: Optional[float] = None, within=None) -> M:
        """Sends req and returns the response_type whose request_id equals
        req.request_id, waiting up to wall_timeout seconds. Other messages
        arriving meanwhile stay buffered."""
        __tracebackhide__ = True
        _no_within(within, "SimClient.request()")
        if args:  # request(req, response_type, timeout): the old positional timeout
            if len(args) > 1 or timeout is not None:
                raise TypeError("SimClient.request(req, response_type, *, wall_timeout=): too many positional "
                                "arguments")
            timeout = args[0]
        timeout = wall_timeout_of(wall_timeout, timeout, "SimClient.request")
        pair = (type(req), response_type)
        if pair not in self._request_pairs:
            # fields() builds its list anew on every call: check each pair once.
            check_request_pair(*pair, "send() and expect()")
            self._request_pairs.add(pair)
        request_id = req.request_id
        self.send(req)
        return self.expect(
            response_type,
            lambda msg: msg.request_id == request_id,
            wall_timeout=timeout,
            what=f"request_id == {request_id}",
        )

    def revision(self, *args, wall_timeout: Optional[float] = None, timeout: Optional[float] = None,
                 within=None) -> RevisionResponse:
        """Asks which build the sim runs. Also makes this client the sim's
        active peer, so telemetry starts coming here."""
        __tracebackhide__ = True
        _no_within(within, "SimClient.revision()")
        if args:  # revision(timeout): the old positional timeout
            if len(args) > 1 or timeout is not None:
                raise TypeError("SimClient.revision(*, wall_timeout=): too many positional arguments")
            timeout = args[0]
        timeout = wall_timeout_of(wall_timeout, timeout, "SimClient.revision")
        req = self._system.RevisionRequest(request_id=next(self._request_ids) & 0xFFFFFFFF)
        return self.request(req, self._system.RevisionResponse, wall_timeout=timeout)

    def collect(self, duration: float, msg_type: Optional[type] = None) -> list:
        """Receives for duration seconds and returns (consuming) the messages,
        of msg_type if given, that arrived in that window."""
        deadline = time.monotonic() + duration
        arrived: list = []
        while True:
            remaining = deadline - time.monotonic()
            arrived.extend(self._receive(max(remaining, 0.0)))
            if remaining <= 0:
                break
        wanted = [m for m in arrived if msg_type is None or isinstance(m, msg_type)]
        for msg in wanted:
            self._consume(msg)
        return wanted

    def drain(self) -> list:
        """Consumes and returns every buffered message, including those
        already waiting in the socket, without waiting for more."""
        self._receive(0.0)
        entries = sorted((entry for queue in self._pending.values() for entry in queue), key=lambda entry: entry[0])
        self._pending.clear()
        return [msg for _arrival, msg in entries]

    # -- bulk --------------------------------------------------------------

    def ingest(self, *, receive_buffer: Optional[int] = _INGEST_RECEIVE_BUFFER, batch: int = 128,
               gro: bool = False) -> Receiver:
        """Starts receiving on a C++ thread and returns the system module's
        Receiver (sil._core.Receiver for the framework's).

        Take telemetry from it in batches: ``take(timeout)`` (message
        objects), ``take_arrays(timeout)`` (a numpy structured array per
        message type) or ``take_datagrams(timeout)``. What it hands you this
        way is not recorded in history() (a bulk stream would fill memory).
        Until it is closed the receiver is the only reader of the socket:
        expect(), request(), collect() and drain() read through it as well,
        and what they read is recorded as before; a message goes to
        whichever reads it first. Loss shows in its stats() (kernel_drops,
        ring_overruns) and, for a counter in the payload, in
        sil.ingest.SequenceTracker. close() it (or the client) to stop it;
        it is a context manager.

        receive_buffer: SO_RCVBUF bytes to ask for (None: leave it);
        batch: receives per recvmmsg call; gro: UDP_GRO, for a sim on this
        host that sends runs of equal-sized datagrams with UDP GSO (each
        run then costs one receive instead of one per datagram).
        """
        if self._closed:
            raise ValueError("the client is closed")
        if self._receiver is not None and not self._receiver.closed:
            raise RuntimeError("this client already ingests; close() its Receiver first")
        receiver = self._system.Receiver(self._transport.fileno(), receive_buffer=receive_buffer, batch=batch, gro=gro)
        receiver.start()
        self._receiver = receiver
        self._refused_seen = 0
        return receiver

    # -- what was received -----------------------------------------------

    def history(self, msg_type: Optional[type] = None) -> list:
        """Every message received so far (of msg_type if given), consumed or
        not, in arrival order."""
        return [m for m in self._history if msg_type is None or isinstance(m, msg_type)]

    def counts(self) -> collections.Counter:
        """How many messages of each type name were received."""
        return collections.Counter(type(m).__name__ for m in self._history)

    @property
    def local_address(self) -> tuple[str, int]:
        return self._transport.local_address

    # -- lifetime --------------------------------------------------------

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._receiver is not None:
                self._receiver.close()
            self._transport.close()

    def __enter__(self) -> "SimClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        host, port = self.address
        unconsumed = sum(map(len, self._pending.values()))
        return f"<SimClient to {host}:{port}, {len(self._history)} received, {unconsumed} unconsumed>"

    # -- internals -------------------------------------------------------

    def _take_pending(self, msg_type: type, predicate: Optional[Callable]) -> object:
        """Consumes and returns the earliest unconsumed msg_type message for
        which predicate holds, or None."""
        best = None  # (arrival, queue, index)
        for cls, queue in self._pending.items():
            if not issubclass(cls, msg_type):
                continue
            for index, (arrival, msg) in enumerate(queue):
                if best is not None and arrival > best[0]:
                    break
                if predicate is None or predicate(msg):
                    best = (arrival, queue, index)
                    break
        if best is None:
            return None
        _arrival, queue, index = best
        msg = queue[index][1]
        del queue[index]
        return msg

    def _buffer(self, msg) -> None:
        self._history.append(msg)
        queue = self._pending.get(type(msg))
        if queue is None:
            queue = self._pending[type(msg)] = collections.deque()
        queue.append((next(self._arrivals), msg))

    def _consume(self, msg) -> None:
        # By identity: messages compare equal by bytes, and an equal twin
        # that arrived earlier is a different message. A message being
        # consumed has usually just arrived: search from the newest.
        queue = self._pending.get(type(msg), ())
        for index in range(len(queue) - 1, -1, -1):
            if queue[index][1] is msg:
                del queue[index]
                return

    def _receive(self, timeout: float) -> list:
        """Waits up to timeout for a datagram; returns the messages decoded
        (also buffered): with timeout > 0 the first to arrive, with 0 every
        one already there."""
        receiver = self._receiver
        if receiver is not None and not receiver.closed:
            return self._receive_from(receiver, timeout)
        received = []
        for datagram in self._transport.datagrams(timeout):
            msg = self._decode(bytes(datagram))
            if msg is not None:
                self._buffer(msg)
                received.append(msg)
            if timeout > 0:
                break  # a wait returns with the first datagram
        return received

    def _receive_from(self, receiver: Receiver, timeout: float) -> list:
        """_receive through the ingest thread: everything that has arrived,
        including what is still in the socket for the thread to read (as
        a read of the socket itself would)."""
        received = self._take(receiver, timeout)
        for _ in range(_CATCH_UP_TAKES):
            if not self._transport.readable():
                break
            received += self._take(receiver, _CATCH_UP_WAIT)
        for msg in received:
            self._buffer(msg)
        refused = receiver.stats()["refused"]
        if refused != self._refused_seen:
            self._refused_seen = refused
            raise self._refused()
        return received

    def _take(self, receiver: Receiver, timeout: float) -> list:
        if self._decoder is not None:
            return [msg for msg in map(self._decode, receiver.take_datagrams(timeout)) if msg is not None]
        invalid: list = []
        received = receiver.take(timeout, invalid)
        for data, verdict, length in invalid:
            self.undecodable.append((data, _ingest_decode_error(data, verdict, length)))
        return received

    def _decode(self, data: bytes):
        """The message in data, or None after recording it as undecodable."""
        try:
            return transport.decode(data, self._decoder)
        except self._system.DecodeError as error:
            self.undecodable.append((data, error))
            return None

    def _refused(self) -> ConnectionRefusedError:
        host, port = self.address
        return ConnectionRefusedError(f"nothing listens at {host}:{port} (has sil-sim exited?)")

    def _timeout_message(self, awaited: str, timeout: float, arrived: list, undecodable: int) -> str:
        host, port = self.address
        text = f"no {awaited} from {host}:{port} within {timeout:g} s; "
        if not arrived and not undecodable:
            text += "nothing arrived meanwhile"
            if not self._history:
                text += (" (nothing at all so far: the sim sends only to the last peer"
                         " that sent it a valid datagram; send one first, e.g. revision())")
            return text
        counts = collections.Counter(type(m).__name__ for m in arrived)
        parts = [f"{n} x {name}" for name, n in sorted(counts.items())]
        if undecodable:
            parts.append(f"{undecodable} undecodable")
        text += "arrived meanwhile: " + ", ".join(parts)
        if arrived:
            text += "; last: " + "; ".join(repr(m) for m in arrived[-_LAST_SHOWN:])
        return text


def _ingest_decode_error(data: bytes, verdict: str, length: int) -> "DecodeError":
    """The DecodeError for a datagram the ingest thread found invalid; an
    oversized one was kept only in part, so its verdict comes from there."""
    msg_id = int.from_bytes(data[:2], "little") if len(data) >= 2 else None
    kept = "" if length == len(data) else f", {len(data)} kept"
    return transport.decode_error(verdict, f"datagram of {length} bytes{kept}" +
                                  ("" if msg_id is None else f", MsgId {msg_id}"), length, msg_id)


def _describe_predicate(predicate: Optional[Callable]) -> str:
    if predicate is None:
        return ""
    name = getattr(predicate, "__qualname__", None) or repr(predicate)
    code = getattr(predicate, "__code__", None)
    if code is not None and "<lambda>" in name:
        return f"predicate <lambda> at {code.co_filename}:{code.co_firstlineno}"
    return f"predicate {name}"

