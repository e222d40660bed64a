"""Reads sil recordings (``sil-sim --record PATH``; the format is
protocol/proto/sil_record.proto).

    import sil.recording
    with sil.recording.open("run.silrec") as rec:
        print(rec.header.version, rec.header.rate_hz, rec.header.catalogue)
        for m in rec.messages("PlantTemperature", start=sil.s(1), end=sil.s(2)):
            print(m.sim_time_ns, m.name, m.value.temperature_c)
        rec.to_csv("plant.csv", types="PlantTemperature")

Each message's ``value`` is an instance of this build's compiled class when
its layout is the recording's, else of a class made from the catalogue in
the recording's header (``sil.catalogue``): a recording is readable by any
build. The file is read by the same C++ reader as sil-sim's replay
(``sil._core.RecordReader``, a binding of ``sil::record::Reader``): the
framing, the rules that tell a torn tail from corruption and the structure
checks are not repeated here; a length is never trusted before it is
checked against the bytes in the file.

A file that was cut short (kill -9, a sim still recording) ends cleanly
where its last complete frame ends, with an ``IncompleteRecordingWarning``:
everything before is an exact prefix of the run. Corruption (not a
recording, a checksum mismatch, a bad length, a record that does not parse,
data after the footer) raises ``RecordingError`` naming the byte offset;
``sil.recover`` salvages the intact records of such a file.

The file is memory-mapped; sil-sim only ever appends to a recording, so it
may be read while the sim is still writing it (up to what was there when it
was opened).
"""

from __future__ import annotations

import builtins
import csv
import mmap
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Iterable, Iterator, Optional, Union

from google.protobuf.message import DecodeError as _ProtobufDecodeError

from sil._system import system_module
from sil._protos import record_pb as rpb
from sil.catalogue import Catalogue, CatalogueError, Decoder, MessageInfo, param_value_of
from sil.control import CONTROL_REPLY_ID, CONTROL_REQUEST_ID
from sil.control import pb as control_pb
from sil.simtime import to_sim_time

if TYPE_CHECKING:  # never at run time: the system module is chosen at first use (sil._system)
    from sil._core import MsgId, RecordReader

FORMAT_VERSION = 1
# Record.message.direction, by enum value (sil.record.Direction).
DIRECTIONS = ("published", "injected", "control_request", "control_reply")
CONTROL_NAMES = {CONTROL_REQUEST_ID: "ControlRequest", CONTROL_REPLY_ID: "ControlReply"}
FIXED_COLUMNS = ("sim_time_ns", "wall_ns", "msg_id", "name", "direction")

TypeSpec = Union[str, int, type, "MsgId"]


class RecordingError(ValueError):
    """A file that is not a readable recording: ``path``, ``offset`` (the
    byte offset of the offending frame) and ``problem``. ``damaged`` is True
    when the file is a recording whose header was read but whose frames or
    structure are damaged after it: ``sil.recover`` can salvage the rest."""

    def __init__(self, path: Path, offset: int, problem: str, damaged: bool = False) -> None:
        super().__init__(f"{path}: {problem} at byte {offset}")
        self.path = path
        self.offset = offset
        self.problem = problem
        self.damaged = damaged


class IncompleteRecordingWarning(UserWarning):
    """The recording has no footer: the sim was killed, lost power or is
    still recording. Everything before ``offset`` was read and is an exact
    prefix of the run; ``torn`` is True when a frame was cut in half there."""

    def __init__(self, path: Path, offset: int, torn: bool) -> None:
        if torn:
            text = (f"{path}: the frame at byte {offset} is incomplete (the recording was cut short, e.g. by "
                    f"kill -9); everything before it was read")
        else:
            text = (f"{path}: no footer after byte {offset} (the sim was killed or is still recording); "
                    f"everything up to there was read")
        super().__init__(text)
        self.path = path
        self.offset = offset
        self.torn = torn


@dataclass(frozen=True)
class Header:
    """Who made the recording: the build, the clock and the message catalogue."""

    format_version: int
    version: str         # the build's version, as in sil-sim's ready line
    git_revision: str
    rate_hz: int
    clock: str           # realtime, fast or step
    start_unix_ns: int   # wall time when recording started
    catalogue: Catalogue  # its params: the parameters' declarations
    start_params: dict    # {name: value} set before the first tick (--param); the rest start at their default


@dataclass(frozen=True)
class Footer:
    """Written when the sim stopped cleanly."""

    messages: int         # Message records written
    dropped: int          # messages the writer could not keep up with
    end_sim_time_ns: int


class RecordedMessage:
    """One message as recorded: ``sim_time_ns``, ``wall_ns`` (since the
    recording started), ``msg_id``, ``name``, ``direction`` (one of
    DIRECTIONS), ``payload`` (bytes as on the bus) and ``value`` (the decoded
    message; a sil.control Request/Reply for control traffic; None when the
    payload does not fit the catalogue)."""

    __slots__ = ("sim_time_ns", "wall_ns", "msg_id", "direction", "payload", "_recording")

    def __init__(self, recording: "Recording", sim_time_ns: int, wall_ns: int, msg_id: int, direction: str,
                 payload: bytes) -> None:
        self._recording = recording
        self.sim_time_ns = sim_time_ns
        self.wall_ns = wall_ns
        self.msg_id = msg_id
        self.direction = direction
        self.payload = payload

    @property
    def name(self) -> str:
        return self._recording.name_of(self.msg_id)

    @property
    def value(self):
        return self._recording.decode(self.msg_id, self.payload)

    def __repr__(self) -> str:
        return (f"RecordedMessage(sim_time_ns={self.sim_time_ns}, direction={self.direction!r}, "
                f"{self.name}: {self.value!r})")


class Recording:
    """An open recording; see the module docstring. A context manager; also
    iterable (every message, in recorded order)."""

    def __init__(self, path: Union[str, os.PathLike]) -> None:
        self.path = Path(path)
        with builtins.open(self.path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            # mmap cannot map an empty file; an empty file is a recording cut
            # before its magic, which the framing reports.
            self._data = mmap.mmap(file.fileno(), size, access=mmap.ACCESS_READ) if size else b""
        try:
            self.header = self._read_header()
        except BaseException:
            self.close()
            raise
        self._decoder = Decoder(self.header.catalogue)
        self._names = {info.id: info.name for info in self.header.catalogue}
        self._names.update(CONTROL_NAMES)
        # MsgId -> (class, payload size), looked up once per message.
        self._classes = {info.id: (self._decoder.class_for(info.id), info.size) for info in self.header.catalogue}
        self._footer: Optional[Footer] = None
        self._scanned = False

    # -- reading ---------------------------------------------------------

    def __iter__(self) -> Iterator[RecordedMessage]:
        return self.messages()

    def messages(self, types: Union[TypeSpec, Iterable[TypeSpec], None] = None, *, start=None, end=None,
                 directions: Union[str, Iterable[str], None] = None) -> Iterator[RecordedMessage]:
        """The recorded messages in order, optionally only those of ``types``
        (names, MsgIds or message classes; "ControlRequest"/"ControlReply"
        for control traffic), with ``start <= sim time < end`` (sil.ms(...),
        sil.s(...) or a timedelta) and with a direction in ``directions``.
        Bad arguments raise here, before anything is read."""
        ids = self._resolve_types(types)
        start_ns = None if start is None else to_sim_time(start, "start").ns
        end_ns = None if end is None else to_sim_time(end, "end").ns
        wanted = self._resolve_directions(directions)
        return self._iterate(ids, start_ns, end_ns, wanted)

    def to_csv(self, out: Union[str, os.PathLike, IO[str]], types: Union[TypeSpec, Iterable[TypeSpec], None] = None,
               *, start=None, end=None, directions: Union[str, Iterable[str], None] = None) -> int:
        """Writes the messages to CSV, one row per message: sim_time_ns,
        wall_ns, msg_id, name, direction, then one column per field of every
        selected type, named Type.field (empty in rows of other types).
        ``types`` defaults to every message of the catalogue; control
        traffic has no fields and cannot be exported. Returns the rows
        written."""
        ids = self._resolve_types(types)
        if ids is not None and ids & CONTROL_NAMES.keys():
            raise ValueError("control requests and replies have no fields to export; see `sil-rec dump`")
        infos = [info for info in self.header.catalogue if ids is None or info.id in ids]
        messages = self.messages([info.id for info in infos], start=start, end=end, directions=directions)
        columns = list(FIXED_COLUMNS)
        first_column: dict[int, int] = {}
        for info in infos:
            first_column[info.id] = len(columns)
            columns += [f"{info.name}.{f.name}" for f in info.fields]
        if isinstance(out, (str, os.PathLike)):
            with builtins.open(out, "w", newline="") as file:
                return _write_csv(file, columns, first_column, infos, messages)
        return _write_csv(out, columns, first_column, infos, messages)

    @property
    def footer(self) -> Optional[Footer]:
        """The footer, or None when the recording was cut short (reading
        this scans the file's framing once)."""
        if not self._scanned:
            self._scan()
        return self._footer

    # -- names and decoding ----------------------------------------------

    def name_of(self, msg_id: int) -> str:
        """The message name of a MsgId in this recording ('MsgId N' if unknown)."""
        return self._names.get(msg_id) or f"MsgId {msg_id}"

    def decode(self, msg_id: int, payload: bytes):
        """The message object for a payload of this recording, or None."""
        entry = self._classes.get(msg_id)
        if entry is not None:
            cls, size = entry
            return cls.from_bytes(payload) if len(payload) == size else None
        if msg_id in CONTROL_NAMES:
            message = control_pb.Request() if msg_id == CONTROL_REQUEST_ID else control_pb.Reply()
            try:
                message.ParseFromString(payload)
            except _ProtobufDecodeError:
                return None
            return message
        return None

    def _resolve_types(self, types) -> Optional[frozenset[int]]:
        """The MsgIds of a type filter (see messages()); None for no filter.
        Raises LookupError for a type the recording's catalogue lacks."""
        if types is None:
            return None
        if isinstance(types, (str, int, type, system_module().MsgId)):
            types = [types]
        return frozenset(self._resolve_type(spec) for spec in types)

    def _resolve_type(self, spec) -> int:
        if isinstance(spec, str):
            for msg_id, name in CONTROL_NAMES.items():
                if spec == name:
                    return msg_id
            info = self.header.catalogue.get(spec)
            if info is None:
                raise LookupError(f"{self.path}: the recording has no message type {spec!r} "
                                  f"(its catalogue: {self._catalogue_names()})")
            return info.id
        if isinstance(spec, type):
            return self._decoder.resolve(spec)[0]
        if isinstance(spec, (int, system_module().MsgId)) and not isinstance(spec, bool):
            msg_id = int(spec)
            if msg_id in CONTROL_NAMES or msg_id in self.header.catalogue:
                return msg_id
            raise LookupError(f"{self.path}: the recording has no message type with MsgId {msg_id} "
                              f"(its catalogue: {self._catalogue_names()})")
        raise TypeError(f"a message type is a name, a MsgId or a message class, got {spec!r}")

    def _catalogue_names(self) -> str:
        return ", ".join([*(info.name for info in self.header.catalogue), *CONTROL_NAMES.values()])

    @staticmethod
    def _resolve_directions(directions) -> Optional[frozenset[str]]:
        if directions is None:
            return None
        if isinstance(directions, str):
            directions = [directions]
        wanted = frozenset(directions)
        unknown = wanted - set(DIRECTIONS)
        if unknown:
            raise ValueError(f"unknown direction {sorted(unknown)[0]!r} (directions: {', '.join(DIRECTIONS)})")
        return wanted

    # -- the file ----------------------------------------------------------

    def close(self) -> None:
        """Unmaps the file. Messages already read stay valid."""
        data, self._data = self._data, b""
        if isinstance(data, mmap.mmap):
            try:
                data.close()
            except BufferError:
                # An unfinished messages() iterator still reads it; the
                # mapping goes when that iterator does.
                pass

    def __enter__(self) -> "Recording":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Recording {self.path} {self.header.clock} {self.header.rate_hz} Hz, build {self.header.version}>"

    # -- internals -----------------------------------------------------------

    def _read_header(self) -> Header:
        reader = system_module().RecordReader(self._data)
        raw = reader.header
        if raw is None:
            if reader.end == "corrupt":
                raise RecordingError(self.path, reader.offset, reader.problem)
            raise RecordingError(self.path, reader.offset,
                                 "the recording ends before its header (it was cut short as it started)")
        offset = len(system_module().RECORD_MAGIC)
        header = rpb.Header.FromString(raw)
        if header.format_version != FORMAT_VERSION:
            raise RecordingError(self.path, offset, f"format version {header.format_version}; this reader "
                                                    f"reads version {FORMAT_VERSION}")
        try:
            catalogue = Catalogue.from_proto(header.catalogue)
        except CatalogueError as error:
            raise RecordingError(self.path, offset, f"the header's catalogue is invalid: {error}") from None
        return Header(format_version=header.format_version, version=header.version,
                      git_revision=header.git_revision, rate_hz=header.rate_hz, clock=header.clock,
                      start_unix_ns=header.start_unix_ns, catalogue=catalogue,
                      start_params={setting.name: param_value_of(setting.value) for setting in header.params})

    def _iterate(self, ids: Optional[frozenset[int]], start_ns: Optional[int], end_ns: Optional[int],
                 wanted: Optional[frozenset[str]]) -> Iterator[RecordedMessage]:
        reader = system_module().RecordReader(self._data)
        directions = DIRECTIONS
        for sim_time_ns, wall_ns, msg_id, direction, payload in reader:
            if ids is not None and msg_id not in ids:
                continue
            if (start_ns is not None and sim_time_ns < start_ns) or (end_ns is not None and sim_time_ns >= end_ns):
                continue
            direction = directions[direction] if 0 <= direction < len(directions) else f"direction {direction}"
            if wanted is not None and direction not in wanted:
                continue
            yield RecordedMessage(self, sim_time_ns, wall_ns, msg_id, direction, payload)
        self._ended(reader)

    def _scan(self) -> None:
        reader = system_module().RecordReader(self._data)
        reader.finish()
        self._ended(reader)

    def _ended(self, reader: "RecordReader") -> None:
        """Judges how the reading ended: corruption raises, a footer is
        kept, a file without one warns."""
        if reader.end == "corrupt":
            raise RecordingError(self.path, reader.offset, reader.problem, damaged=True)
        footer = reader.footer
        self._footer = None if footer is None else Footer(*footer)
        self._scanned = True
        if footer is None:
            # stacklevel 3: the warning points at the caller's loop over messages().
            warnings.warn(IncompleteRecordingWarning(self.path, reader.offset, torn=reader.end == "torn tail"),
                          stacklevel=3)


def open(path: Union[str, os.PathLike]) -> Recording:  # noqa: A001 (sil.recording.open reads like open())
    """Opens a recording and reads its header; raises RecordingError when it
    is not a readable recording, OSError when it cannot be opened."""
    return Recording(path)


def _write_csv(file: IO[str], columns: list[str], first_column: dict[int, int], infos: list[MessageInfo],
               messages: Iterator[RecordedMessage]) -> int:
    writer = csv.writer(file)
    writer.writerow(columns)
    fields = {info.id: [f.name for f in info.fields] for info in infos}
    rows = 0
    for m in messages:
        row = [m.sim_time_ns, m.wall_ns, m.msg_id, m.name, m.direction] + [""] * (len(columns) - len(FIXED_COLUMNS))
        value = m.value
        if value is not None:
            column = first_column[m.msg_id]
            for i, name in enumerate(fields[m.msg_id]):
                row[column + i] = getattr(value, name)
        writer.writerow(row)
        rows += 1
    return rows
