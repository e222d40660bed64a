"""Bulk telemetry: loss detection from a sequence counter in the payload.

The receiving side is ``sil._core.Receiver`` (``SimClient.ingest()`` starts
one on the client's socket): a C++ thread reads the socket with recvmmsg,
the GIL released, and ``take()`` / ``take_arrays()`` hand Python whatever has
arrived as one batch. Its ``stats()`` count the loss the receiver can see
(the kernel's drop counter, ring overruns); ``SequenceTracker`` counts the
loss the payload shows, which also covers anything lost before the socket
(the sender's own errors, another hop).
"""

from __future__ import annotations

from typing import Iterable

__all__ = ["SequenceTracker"]


class SequenceTracker:
    """Follows a wrapping sequence counter (e.g. ``Heartbeat.sequence``, u32)
    across batches. A value ahead of the highest seen by d counts d - 1 as
    missing; a value not ahead of it (a duplicate, or one arriving after a
    later one) counts as late and changes nothing else. "Ahead" means by
    less than half the counter's range, so the counter may wrap.

    ``update`` takes any iterable of ints, or a numpy integer array (then it
    is vectorised unless something arrived out of order)."""

    def __init__(self, bits: int = 32) -> None:
        if not 1 <= bits <= 62:
            raise ValueError(f"bits must be 1..62, got {bits}")
        self._modulus = 1 << bits
        self.highest: int | None = None
        self.received = 0
        self.missing = 0
        self.late = 0

    def update(self, sequences: Iterable[int]) -> int:
        """Counts a batch in arrival order; returns how many it showed missing."""
        before = self.missing
        if hasattr(sequences, "dtype") and self._update_array(sequences):
            return self.missing - before
        modulus, half = self._modulus, self._modulus >> 1
        for sequence in sequences:
            sequence = int(sequence) % modulus
            self.received += 1
            if self.highest is None:
                self.highest = sequence
                continue
            step = (sequence - self.highest) % modulus
            if 0 < step < half:
                self.missing += step - 1
                self.highest = sequence
            else:
                self.late += 1
        return self.missing - before

    def _update_array(self, sequences) -> bool:
        """The common case in one pass: every value ahead of the one before.
        False (nothing counted) when that does not hold."""
        import numpy as np

        if sequences.size == 0:
            return True
        values = sequences.astype(np.int64) % self._modulus
        if self.highest is None:
            steps = np.concatenate([np.ones(1, dtype=np.int64), np.diff(values) % self._modulus])
        else:
            steps = np.diff(np.concatenate([np.array([self.highest], dtype=np.int64), values])) % self._modulus
        if not bool(np.all((steps > 0) & (steps < self._modulus >> 1))):
            return False
        self.received += int(values.size)
        self.missing += int(steps.sum()) - int(values.size)
        self.highest = int(values[-1])
        return True

    def __repr__(self) -> str:
        return f"<SequenceTracker received={self.received} missing={self.missing} late={self.late}>"
