"""What a launched sim leaves behind for a failing test: its recording and
its log, summarised for the test report (the pytest plugin shows it), and
deleted when the test passed."""

from __future__ import annotations

import collections
import json
import warnings
from pathlib import Path
from typing import Optional

from sil.launcher import SimProcess
from sil.rec import format_line
from sil.recording import Recording, RecordingError

BUS_DIRECTIONS = ("published", "injected")


class SimArtefacts:
    """A launched sim's recording (None when it does not record) and log."""

    def __init__(self, process: SimProcess, recording: Optional[Path]) -> None:
        self.process = process
        self.recording = recording

    @property
    def log(self) -> Path:
        return self.process.stderr_path

    def report(self, last: Optional[int]) -> str:
        """Paths, the sim's counters and (unless last is None) the last
        `last` bus messages, decoded by name. Stop the sim first, so its
        recording is complete."""
        lines = [f"recording: {self.recording if self.recording is not None else '(not recorded)'}",
                 f"sim log:   {self.log}"]
        stopped = self.process.stopped_report()
        lines.append(f"sim stats: {json.dumps(stopped) if stopped else '(the sim did not stop cleanly)'}")
        if self.recording is not None and last is not None:
            lines += self._last_messages(last)
        return "\n".join(lines)

    def discard(self) -> None:
        """Deletes the files (a passing test needs none of them)."""
        for path in (self.recording, self.log):
            if path is not None:
                path.unlink(missing_ok=True)

    def _last_messages(self, last: int) -> list[str]:
        if not self.recording.exists():
            return ["(the sim wrote no recording)"]
        tail: collections.deque = collections.deque(maxlen=last)
        total = 0
        notes = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                with Recording(self.recording) as rec:
                    for m in rec.messages(directions=BUS_DIRECTIONS):
                        tail.append(format_line(m))
                        total += 1
            except (RecordingError, OSError) as error:
                notes.append(f"(reading the recording stopped: {error})")
        notes += [f"({w.message})" for w in caught]
        if last <= 0:
            return [f"{total} messages on the bus", *notes]
        return [f"last {len(tail)} of {total} messages on the bus:", *(f"  {line}" for line in tail), *notes]
