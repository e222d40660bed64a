"""ProcessTarget: a sil-sim launched for the target (SimProcess) and driven
as a NetworkTarget, by default on the step clock."""

from __future__ import annotations

import os
from typing import Optional, Sequence, Union

from sil.launcher import SimProcess
from sil.target_base import DEFAULT_RATE_HZ, DEFAULT_WALL_TIMEOUT, DEFAULT_WITHIN, SimHungError, _WallGuard
from sil.target_network import NetworkTarget
from sil.transport import RECEIVE_BUFFER_REQUEST


def param_text(value) -> str:
    """A parameter value as sil-sim's --param reads it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    raise TypeError(f"a parameter value is a bool, an int or a float, got {type(value).__name__}")


class ProcessTarget(NetworkTarget):
    """A sil-sim launched for this target (SimProcess), stepped over its
    control plane. clock="step" (the default) moves time only in the verbs;
    "realtime" and "fast" run freely and the verbs wait in wall time.
    egress="batched" (the default) has the sim send each tick's messages in
    one syscall, together with the reply that ends an advance: the harness
    sees the same datagrams in the same order as with "per-message", sooner.
    With batched egress the target also asks for bundles (see NetworkTarget).
    params: {name: value} set before the first tick (sil-sim --param)."""

    kind = "process"

    def __init__(self, sim_path: Union[str, os.PathLike], *, rate_hz: int = DEFAULT_RATE_HZ, clock: str = "step",
                 speed: Optional[float] = None, egress: str = "batched",
                 log_dir: Optional[Union[str, os.PathLike]] = None,
                 extra_args: Sequence[str] = (), wall_timeout: float = DEFAULT_WALL_TIMEOUT,
                 default_within=DEFAULT_WITHIN, receive_buffer: int = RECEIVE_BUFFER_REQUEST,
                 bundle_bytes: Optional[int] = None, params: Optional[dict] = None) -> None:
        args = ["--port", "0", "--rate", str(rate_hz), "--clock", clock, "--egress", egress]
        for name, value in (params or {}).items():
            args += ["--param", f"{name}={param_text(value)}"]
        if speed is not None:
            args += ["--speed", repr(float(speed))]
        self.process = SimProcess(sim_path, [*args, *extra_args], log_dir=log_dir,
                                  ready_timeout=max(10.0, float(wall_timeout)))
        try:
            super().__init__("127.0.0.1", self.process.port, wall_timeout=wall_timeout,
                             default_within=default_within, require_control=True, receive_buffer=receive_buffer,
                             bundle_bytes=bundle_bytes)
        except BaseException:
            self.process.stop()
            raise

    def _check_alive(self, guard: _WallGuard) -> None:
        if not self.process.is_running():
            raise self._exited(f" during {guard.what}")

    def _gone(self) -> SimHungError:
        if not self.process.is_running():
            return self._exited("")
        return super()._gone()

    def _exited(self, when: str) -> SimHungError:
        return SimHungError(f"sil-sim exited with status {self.process.returncode}{when}\n--- sil-sim stderr ---\n"
                            f"{self.process.stderr_text().rstrip() or '(empty)'}")

    def close(self) -> int:
        """Closes the socket and stops the sim; returns its exit status."""
        super().close()
        return self.process.stop()
