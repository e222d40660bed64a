"""sil.StepLink: a step-clock sim driven one Advance at a time with the
round trip in C++ (the system module's StepLinkCore, sil._core.StepLinkCore
for the framework's), for co-simulation loops where the harness's own
Python would otherwise cost more than the sim's tick (docs/scenarios.md
"Stepping in a loop: sil.StepLink").

StepLink derives from the StepLinkCore of the system module in use, which is
chosen at first use (sil._system): the class is made when it is first taken
from this module (or from sil), and is the same class from then on."""

from __future__ import annotations

from typing import Optional

from sil._protos import control_pb as pb
from sil._system import system_module
from sil.client import wall_timeout_of
from sil.catalogue import CatalogueMismatchError
from sil.control import ControlError, error_name
from sil.target_base import DEFAULT_WALL_TIMEOUT
from sil.transport import RECEIVE_BUFFER_REQUEST, Hello, Transport


def _step_link_class(core: type) -> type:
    """StepLink on core, a system module's StepLinkCore."""

    class StepLink(core):
        """Attached to the step-clock sil-sim at host:port: says Hello (asking
        for bundles as the targets do; bundle_bytes as for NetworkTarget) and
        checks the sim runs the step clock and this build's catalogue. Then:

            link.inject(sil.SetPoint(...))  # published at the start of the next tick
            link.advance()                  # one tick; advance(n) for n
            link.take()                     # what the ticks published, decoded
            link.tick, link.now_ns          # from the last reply

        wall_timeout: wall-clock seconds any reply may take before
        SimHungError (timeout= is its deprecated spelling).
        Raises ValueError for a sim on another clock, CatalogueMismatchError for
        one built from another catalogue (use NetworkTarget for those)."""

        def __init__(self, host: str, port: int, *, bundle_bytes: Optional[int] = None,
                     wall_timeout: Optional[float] = None, timeout: Optional[float] = None,
                     bind: tuple[str, int] = ("127.0.0.1", 0), receive_buffer: int = RECEIVE_BUFFER_REQUEST) -> None:
            timeout = wall_timeout_of(wall_timeout, timeout, "StepLink")
            timeout = DEFAULT_WALL_TIMEOUT if timeout is None else timeout
            hello = Hello(host, port, bundle_bytes)
            self.address = (host, port)
            # The C++ side sends and receives on a duplicate of this socket.
            self._transport = Transport(host, port, bind=bind, receive_buffer=receive_buffer)
            try:
                super().__init__(self._transport.fileno())
                self.timeout = timeout
                reply = pb.Reply.FromString(self._hello(hello.catalogue_hash, hello.request.bundle_bytes))
                if reply.WhichOneof("result") == "error":
                    raise ControlError("Hello", error_name(reply.error.code), reply.error.message)
                self.ready: pb.Ready = reply.ready
                if self.ready.clock != "step":
                    raise ValueError(f"{hello.where} runs the {self.ready.clock or 'unknown'} clock; "
                                     "StepLink drives the step clock (use NetworkTarget for the others)")
                if not hello.catalogue_matches(self.ready.catalogue_hash):
                    raise CatalogueMismatchError(
                        f"{hello.mismatch()} (hash {self.ready.catalogue_hash:#010x}, this build's "
                        f"{hello.catalogue_hash:#010x}); StepLink decodes with this build's layouts only "
                        "(use NetworkTarget, which fetches theirs)")
            except BaseException:
                self.close()
                raise

        @property
        def wall_timeout(self) -> float:
            """Wall-clock seconds any reply may take (the core's timeout)."""
            return self.timeout

        @wall_timeout.setter
        def wall_timeout(self, seconds: float) -> None:
            self.timeout = seconds

        @property
        def rate_hz(self) -> int:
            return self.ready.rate_hz

        def close(self) -> None:
            super().close()
            self._transport.close()

        def __enter__(self) -> "StepLink":
            return self

        def __exit__(self, *exc_info) -> None:
            self.close()

        def __repr__(self) -> str:
            host, port = self.address
            state = "closed" if self.closed else f"tick {self.tick}"
            return f"<StepLink {host}:{port} {state}>"

    StepLink.__qualname__ = "StepLink"
    return StepLink


def __getattr__(name: str):
    if name == "StepLink":
        cls = globals()["StepLink"] = _step_link_class(system_module().StepLinkCore)
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
