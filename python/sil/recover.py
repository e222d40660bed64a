"""Recovers what is intact in a damaged recording (``sil-rec recover IN OUT``).

    import sil.recover
    result = sil.recover.recover("run.silrec", "run-recovered.silrec")
    for skipped in result.skipped:
        print(skipped.offset, skipped.bytes, skipped.why)

The work is done by the C++ ``sil::record::recover`` (through
``sil._core.recover_recording``): after damage it tries every byte offset
for the next intact frame (length within the limit and the file, CRC-32C,
a record of a known kind) and copies every intact frame byte for byte. The
rules are in docs/recording-format.md "Recovery". The output is a new file:
an existing one is never overwritten, so the input cannot be either.
"""

from __future__ import annotations

import builtins
import json
import mmap
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional, Union

from sil._system import system_module


class RecoveryError(ValueError):
    """Nothing could be recovered: the file has no intact header where a
    recording's first frame is (byte 8)."""


@dataclass(frozen=True)
class Skipped:
    """Bytes of the input left out: where, how many, how many frames they
    held (None when their length fields do not say), and why."""

    offset: int
    bytes: int
    frames: Optional[int]
    why: str


@dataclass(frozen=True)
class Recovery:
    """What recover() wrote: ``messages`` copied, whether the ``footer`` was
    copied (only when no record before it was lost), where an intact footer
    was found (``footer_offset``, copied or not) and what was ``skipped``."""

    source: Path
    output: Path
    messages: int
    footer: bool
    footer_offset: Optional[int]
    skipped: tuple[Skipped, ...]

    @property
    def intact(self) -> bool:
        return not self.skipped


def recover(source: Union[str, os.PathLike], output: Union[str, os.PathLike]) -> Recovery:
    """Writes every intact record of the recording at ``source`` to a new
    recording at ``output`` and says what was skipped. Raises RecoveryError
    when nothing can be recovered, FileExistsError when ``output`` exists,
    OSError when a file cannot be read or written; ``output`` is removed
    again after any failure."""
    source, output = Path(source), Path(output)
    with builtins.open(source, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        data = mmap.mmap(file.fileno(), size, access=mmap.ACCESS_READ) if size else b""
    try:
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        try:
            try:
                result = system_module().recover_recording(data, fd)
                os.fsync(fd)
            finally:
                os.close(fd)
        except BaseException:
            os.unlink(output)
            raise
    except ValueError as error:
        raise RecoveryError(f"{source}: {error}") from None
    finally:
        if isinstance(data, mmap.mmap):
            data.close()
    return Recovery(source=source, output=output, messages=result["messages"], footer=result["footer"],
                    footer_offset=result["footer_offset"],
                    skipped=tuple(Skipped(**entry) for entry in result["skipped"]))


def report(recovery: Recovery) -> list[str]:
    """What ``sil-rec recover`` prints: one line for the result, one per
    skipped range, one about the footer."""
    lines = [f"{recovery.source} -> {recovery.output}: {recovery.messages} messages recovered"]
    if recovery.intact:
        lines.append("nothing was damaged: the copy is identical")
    for skipped in recovery.skipped:
        if skipped.offset == 0 and skipped.frames == 0:
            held = "the magic"
        elif skipped.frames is None:
            held = "frames unknown"
        else:
            held = f"{skipped.frames} frame" + ("" if skipped.frames == 1 else "s")
        lines.append(f"skipped {skipped.bytes} bytes at byte {skipped.offset} ({held}): {skipped.why}")
    if recovery.footer:
        if not recovery.intact:
            lines.append("the footer was copied: no record of the run was lost")
    elif recovery.footer_offset is not None:
        lines.append(f"the footer at byte {recovery.footer_offset} was not copied: records before it were lost, so "
                     f"the recovered recording has no footer and reads as cut short")
    else:
        lines.append("no footer: the recovered recording reads as cut short")
    return lines


def to_json(recovery: Recovery) -> str:
    """The recovery as one JSON object (``sil-rec recover --json``)."""
    data = asdict(recovery)
    data.update(source=str(recovery.source), output=str(recovery.output), intact=recovery.intact)
    return json.dumps(data)
