"""sil.StepLink: a step-clock sim driven one Advance at a time with the
round trip in C++ (sil._core.StepLinkCore), for co-simulation loops where the
harness's own Python would otherwise cost more than the sim's tick
(docs/scenarios.md "Stepping in a loop: sil.StepLink")."""

from __future__ import annotations

from typing import Optional

from sil import _core
from sil import sil_control_pb2 as pb
from sil._udp import connected_socket
from sil.catalogue import CatalogueMismatchError
from sil.control import ControlError, error_name
from sil.targets import _RX_BUFFER_REQUEST, DEFAULT_WALL_TIMEOUT, bundle_request


class StepLink(_core.StepLinkCore):
    """Attached to the step-clock sil-sim at host:port: says Hello (asking
    for bundles as the targets do; bundle_bytes as for NetworkTarget) and
    checks the sim runs the step clock and this build's catalogue. Then:

        link.inject(sil.SetPoint(...))  # published at the start of the next tick
        link.advance()                  # one tick; advance(n) for n
        link.take()                     # what the ticks published, decoded
        link.tick, link.now_ns          # from the last reply

    timeout: wall-clock seconds any reply may take before SimHungError.
    Raises ValueError for a sim on another clock, CatalogueMismatchError for
    one built from another catalogue (use NetworkTarget for those)."""

    def __init__(self, host: str, port: int, *, bundle_bytes: Optional[int] = None,
                 timeout: float = DEFAULT_WALL_TIMEOUT, bind: tuple[str, int] = ("127.0.0.1", 0),
                 receive_buffer: int = _RX_BUFFER_REQUEST) -> None:
        requested = bundle_request(host, bundle_bytes)
        self.address = (host, port)
        self._sock, selector = connected_socket(self.address, bind, receive_buffer)
        selector.close()
        try:
            self._sock.setblocking(True)  # the C++ side receives with a timeout of its own
            super().__init__(self._sock.fileno())
            self.timeout = timeout
            reply = pb.Reply.FromString(self._hello(_core.catalogue_hash, requested))
            if reply.WhichOneof("result") == "error":
                raise ControlError("Hello", error_name(reply.error.code), reply.error.message)
            self.ready: pb.Ready = reply.ready
            if self.ready.clock != "step":
                raise ValueError(f"the sim at {host}:{port} runs the {self.ready.clock or 'unknown'} clock; "
                                 "StepLink drives the step clock (use NetworkTarget for the others)")
            if self.ready.catalogue_hash != _core.catalogue_hash:
                raise CatalogueMismatchError(
                    f"the sim at {host}:{port} was built from a different message catalogue (hash "
                    f"{self.ready.catalogue_hash:#010x}, this build's {_core.catalogue_hash:#010x}); "
                    "StepLink decodes with this build's layouts only (use NetworkTarget, which fetches theirs)")
        except BaseException:
            self.close()
            raise

    @property
    def rate_hz(self) -> int:
        return self.ready.rate_hz

    def close(self) -> None:
        super().close()
        self._sock.close()

    def __enter__(self) -> "StepLink":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        host, port = self.address
        state = "closed" if self.closed else f"tick {self.tick}"
        return f"<StepLink {host}:{port} {state}>"
