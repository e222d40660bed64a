"""Test-only: writes sil recordings byte by byte, so the reader's tests can
craft files sil-sim would never write (torn, corrupt, from another build).
Its CRC-32C is a plain bitwise one, written from the definition in
protocol/proto/sil_record.proto, so it checks the C++ implementation instead of
repeating it."""

from __future__ import annotations

import struct
from typing import Iterable, Optional

from sil import sil_record_pb2 as rpb
from sil.catalogue import Catalogue

MAGIC = b"SILREC1\n"
PUBLISHED, INJECTED, CONTROL_REQUEST, CONTROL_REPLY = range(4)


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
        table.append(crc)
    return table


_TABLE = _crc_table()


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ byte) & 0xFF]
    return crc ^ 0xFFFFFFFF


def frame(record_bytes: bytes, *, crc: Optional[int] = None, length: Optional[int] = None) -> bytes:
    return struct.pack("<II", len(record_bytes) if length is None else length,
                       crc32c(record_bytes) if crc is None else crc) + record_bytes


def catalogue_proto(catalogue: Catalogue):
    from sil import sil_control_pb2 as cpb
    proto = cpb.Catalogue(hash=catalogue.hash)
    for info in catalogue:
        message = proto.messages.add(id=info.id, name=info.name, size=info.size)
        for f in info.fields:
            message.fields.add(name=f.name, type=f.kind, offset=f.offset, size=f.size, count=f.count)
    return proto


def header_record(catalogue: Optional[Catalogue] = None, *, rate_hz: int = 100, clock: str = "step",
                  version: str = "0.1.0", git_revision: str = "0123456789abcdef0123456789abcdef01234567",
                  start_unix_ns: int = 1_700_000_000_000_000_000) -> bytes:
    catalogue = Catalogue.local() if catalogue is None else catalogue
    return rpb.Record(header=rpb.Header(format_version=1, version=version, git_revision=git_revision,
                                        catalogue=catalogue_proto(catalogue), rate_hz=rate_hz, clock=clock,
                                        start_unix_ns=start_unix_ns)).SerializeToString()


def message_record(sim_time_ns: int, msg_id: int, payload: bytes, direction: int = PUBLISHED,
                   wall_ns: Optional[int] = None) -> bytes:
    return rpb.Record(message=rpb.Message(sim_time_ns=sim_time_ns, wall_ns=sim_time_ns if wall_ns is None else wall_ns,
                                          msg_id=msg_id, direction=direction, payload=payload)).SerializeToString()


def footer_record(messages: int, dropped: int = 0, end_sim_time_ns: int = 0) -> bytes:
    return rpb.Record(footer=rpb.Footer(messages=messages, dropped=dropped,
                                        end_sim_time_ns=end_sim_time_ns)).SerializeToString()


def recording(messages: Iterable[tuple], *, catalogue: Optional[Catalogue] = None, footer: bool = True,
              dropped: int = 0, **header) -> bytes:
    """A whole file: magic, header, one frame per (sim_time_ns, msg_id,
    payload[, direction]) and, unless footer=False, the footer."""
    parts = [MAGIC, frame(header_record(catalogue, **header))]
    count = 0
    end = 0
    for sim_time_ns, msg_id, payload, *direction in messages:
        parts.append(frame(message_record(sim_time_ns, msg_id, payload, *direction)))
        count += 1
        end = sim_time_ns
    if footer:
        parts.append(frame(footer_record(count, dropped, end)))
    return b"".join(parts)


def frame_offsets(data: bytes) -> list[int]:
    """Byte offsets of every frame of a well-formed file (and its length last)."""
    offsets = []
    position = len(MAGIC)
    while position < len(data):
        offsets.append(position)
        (length,) = struct.unpack_from("<I", data, position)
        position += 8 + length
    offsets.append(len(data))
    return offsets
