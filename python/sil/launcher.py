"""Starts a sil-sim process and knows when it is ready: it reads the one JSON
ready line the sim prints on stdout, within a deadline, and never guesses
readiness by waiting a while."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Mapping, Optional, Sequence

DEFAULT_ARGS = ("--port", "0")
# A ready line is a few hundred bytes; this much output without a newline
# means something other than sil-sim is talking.
_MAX_READY_LINE = 64 * 1024


class SimStartError(RuntimeError):
    """sil-sim did not become ready. Carries its exit code (None if it was
    still running and had to be stopped) and everything it wrote to stderr."""

    def __init__(self, message: str, *, returncode: Optional[int] = None, stderr: str = "") -> None:
        full = message
        if returncode is not None:
            full += f" (exit status {returncode})"
        full += "\n--- sil-sim stderr ---\n" + (stderr.rstrip() or "(empty)")
        super().__init__(full)
        self.returncode = returncode
        self.stderr = stderr


def stopped_line_report(line: str) -> Optional[dict]:
    """The report in one line of sil-sim's stderr when it is the stopped line
    (docs/sil-sim.md "Stopped line"), else None."""
    if not (line.startswith("{") and '"stopped"' in line):
        return None
    try:
        report = json.loads(line)
    except ValueError:
        return None
    return report if isinstance(report, dict) and report.get("event") == "stopped" else None


class SimProcess:
    """A running sil-sim. Construction returns once the sim is ready, or
    raises SimStartError.

    Attributes: ``port`` (where it listens), ``ready`` (the parsed ready line),
    ``ready_line`` (as printed), ``pid``, ``stderr_path``.
    Its stderr goes to a file, so it survives the process and can be shown
    when a test fails. With ``log_dir`` unset the file is a temporary one,
    removed by ``stop()`` after its text has been kept for ``stderr_text()``.

    With ``exit_with_parent`` (the default) the sim is started with
    ``--exit-with-parent <this process>``, so it stops by itself if this
    process dies without stopping it (a crashed or ``kill -9``-ed harness).
    ``env`` adds to (or overrides) this process's environment for the sim;
    ``cwd`` is its working directory.
    """

    def __init__(
        self,
        path: os.PathLike | str,
        args: Sequence[str] = DEFAULT_ARGS,
        *,
        ready_timeout: float = 10.0,
        log_dir: Optional[os.PathLike | str] = None,
        exit_with_parent: bool = True,
        env: Optional[Mapping[str, str]] = None,
        cwd: Optional[os.PathLike | str] = None,
    ) -> None:
        self.path = Path(path)
        self.args = list(args)
        if exit_with_parent:
            self.args += ["--exit-with-parent", str(os.getpid())]
        self._returncode: Optional[int] = None
        self._stderr_cache: Optional[str] = None
        if not (self.path.is_file() and os.access(self.path, os.X_OK)):
            raise SimStartError(f"no executable sil-sim at {self.path}")

        fd, name = tempfile.mkstemp(prefix="sil-sim-", suffix=".stderr", dir=log_dir)
        self.stderr_path = Path(name)
        self._owns_stderr_file = log_dir is None
        try:
            self._proc = subprocess.Popen(
                [str(self.path), *self.args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=fd,
                env=None if env is None else {**os.environ, **env},
                cwd=cwd,
            )
        except OSError as error:  # e.g. not a program this machine can run
            if self._owns_stderr_file:
                self.stderr_path.unlink(missing_ok=True)
            raise SimStartError(f"cannot run {self.path}: {error}") from error
        finally:
            os.close(fd)
        self.pid = self._proc.pid

        try:
            line, failure = self._read_ready_line(ready_timeout)
            if failure is None:
                self.ready, failure = _parse_ready(line)
        except BaseException:
            self.stop()
            raise
        if failure is not None:
            returncode = self._proc.poll()
            self.stop()
            raise SimStartError(f"{self.path} {failure}", returncode=returncode, stderr=self.stderr_text())
        self.ready_line = line
        self.port: int = self.ready["port"]

    # -- state -----------------------------------------------------------

    @property
    def returncode(self) -> Optional[int]:
        """The exit status once the process has exited (negative: killed by
        that signal), else None."""
        if self._returncode is None and self._proc.poll() is not None:
            self._finish()
        return self._returncode

    def is_running(self) -> bool:
        return self.returncode is None

    def stderr_text(self) -> str:
        """Everything the sim wrote to stderr so far."""
        if self._stderr_cache is not None:
            return self._stderr_cache
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stopped_report(self) -> Optional[dict]:
        """The counters sil-sim reports as it stops (the JSON line with
        "event": "stopped" on stderr), or None if it has not stopped cleanly."""
        for line in reversed(self.stderr_text().splitlines()):
            report = stopped_line_report(line)
            if report is not None:
                return report
        return None

    # -- control ---------------------------------------------------------

    def send_signal(self, signum: int) -> None:
        if self.is_running():
            self._proc.send_signal(signum)

    def wait(self, timeout: float) -> int:
        """Waits up to timeout seconds for the process to exit and returns
        its exit status; raises subprocess.TimeoutExpired if it does not."""
        self._proc.wait(timeout)
        self._finish()
        return self._returncode

    def stop(self, timeout: float = 5.0) -> int:
        """SIGTERM, then SIGKILL if it has not exited within timeout seconds.
        Returns the exit status; calling it again returns the same."""
        if self.returncode is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                return self.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                return self.wait(timeout)
        return self._returncode

    def __enter__(self) -> "SimProcess":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._returncode is None else f"exited {self._returncode}"
        return f"<SimProcess pid {self.pid} {state} port {getattr(self, 'port', '?')}>"

    # -- internals -------------------------------------------------------

    def _finish(self) -> None:
        if self._returncode is not None:
            return
        self._returncode = self._proc.returncode
        self._proc.stdout.close()
        if self._owns_stderr_file:
            self._stderr_cache = self.stderr_text()
            self.stderr_path.unlink(missing_ok=True)

    def _read_ready_line(self, timeout: float) -> tuple[str, Optional[str]]:
        """Returns (first stdout line, None), or ("", why there is none)."""
        fd = self._proc.stdout.fileno()
        buffer = bytearray()
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while b"\n" not in buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return "", f"printed no ready line within {timeout:g} s (stdout so far: {bytes(buffer)!r})"
                if not selector.select(remaining):
                    continue
                # The raw descriptor, not the buffered file: select() knows
                # nothing about bytes already sitting in a Python buffer.
                chunk = os.read(fd, 4096)
                if not chunk:
                    try:
                        self._proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
                    except subprocess.TimeoutExpired:
                        return "", "closed stdout without printing a ready line"
                    return "", f"exited before it was ready (stdout: {bytes(buffer)!r})"
                buffer += chunk
                if len(buffer) > _MAX_READY_LINE:
                    return "", f"printed {len(buffer)} bytes without a newline; not a ready line"
        return buffer.split(b"\n", 1)[0].decode(errors="replace"), None


def _parse_ready(line: str) -> tuple[Optional[dict], Optional[str]]:
    try:
        ready = json.loads(line)
    except ValueError:
        return None, f"printed {line!r} instead of a JSON ready line"
    if not isinstance(ready, dict) or ready.get("event") != "ready":
        return None, f"printed {line!r}, which is not a ready line"
    port = ready.get("port")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        return None, f"printed a ready line without a valid port: {line!r}"
    return ready, None
