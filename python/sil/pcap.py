"""A recording as a pcapng capture (`sil-rec pcap`, docs/wireshark.md):
every recorded datagram as a UDP/IPv4 packet on loopback, at the wall time
it was recorded, so Wireshark and tshark open it (with the dissector
sil.wireshark writes).

Directions become addresses: what the harness sent (`injected` messages,
control requests) goes HARNESS -> SIM, what the sim sent (`published`
messages, control replies) goes SIM -> HARNESS. Each datagram is the wire
format's: the u16 little-endian MsgId (0xFFF0/0xFFF1 for control) and the
payload. Each packet's comment gives its simulated time and direction.

pcapng (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html)
is written here: a Section Header Block, one Interface Description Block
(LINKTYPE_RAW: packets start with the IPv4 header; nanosecond timestamps)
and one Enhanced Packet Block per datagram.
"""

from __future__ import annotations

import ipaddress
import os
import struct
from typing import BinaryIO, Optional, Union

SIM_ADDRESS = ("127.0.0.1", 45000)
HARNESS_ADDRESS = ("127.0.0.1", 45001)
MAX_UDP_PAYLOAD = 65535 - 20 - 8

_LINKTYPE_RAW = 101
_BYTE_ORDER_MAGIC = 0x1A2B3C4D
_OPT_END, _OPT_COMMENT, _IF_TSRESOL = 0, 1, 9
_TO_SIM = ("injected", "control_request")
_FROM_SIM = ("published", "control_reply")


def _padded(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def _options(*options: tuple[int, bytes]) -> bytes:
    if not options:
        return b""
    body = b"".join(struct.pack("<HH", code, len(value)) + _padded(value) for code, value in options)
    return body + struct.pack("<HH", _OPT_END, 0)


def _block(block_type: int, body: bytes) -> bytes:
    length = 12 + len(body)
    return struct.pack("<II", block_type, length) + body + struct.pack("<I", length)


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def udp_packet(src: tuple[str, int], dst: tuple[str, int], payload: bytes, identification: int = 0) -> bytes:
    """An IPv4 packet carrying one UDP datagram, both checksums filled in."""
    if len(payload) > MAX_UDP_PAYLOAD:
        raise ValueError(f"a datagram of {len(payload)} bytes does not fit UDP over IPv4 (at most {MAX_UDP_PAYLOAD})")
    src_ip, dst_ip = ipaddress.IPv4Address(src[0]).packed, ipaddress.IPv4Address(dst[0]).packed
    udp_length = 8 + len(payload)
    pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, 17, udp_length)
    udp_checksum = _checksum(pseudo + struct.pack("!HHHH", src[1], dst[1], udp_length, 0) + payload) or 0xFFFF
    udp = struct.pack("!HHHH", src[1], dst[1], udp_length, udp_checksum) + payload
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_length, identification & 0xFFFF, 0x4000, 64, 17, 0,
                         src_ip, dst_ip)
    header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
    return header + udp


class PcapngWriter:
    """Writes a pcapng file of raw IPv4 packets with nanosecond timestamps."""

    def __init__(self, out: BinaryIO, *, application: str = "sil-rec pcap") -> None:
        self._out = out
        self._identification = 0
        self.packets = 0
        shb = struct.pack("<IHHq", _BYTE_ORDER_MAGIC, 1, 0, -1) + _options((4, application.encode()))  # shb_userappl
        out.write(_block(0x0A0D0D0A, shb))
        idb = struct.pack("<HHI", _LINKTYPE_RAW, 0, 0) + _options((_IF_TSRESOL, b"\x09"))
        out.write(_block(0x00000001, idb))

    def write_udp(self, timestamp_ns: int, src: tuple[str, int], dst: tuple[str, int], payload: bytes,
                  comment: Optional[str] = None) -> None:
        """One datagram from src to dst at timestamp_ns (since 1970, UTC)."""
        packet = udp_packet(src, dst, payload, self._identification)
        self._identification += 1
        timestamp = max(0, timestamp_ns)
        body = struct.pack("<IIIII", 0, timestamp >> 32, timestamp & 0xFFFFFFFF, len(packet), len(packet))
        body += _padded(packet) + (_options((_OPT_COMMENT, comment.encode())) if comment else b"")
        self._out.write(_block(0x00000006, body))
        self.packets += 1


def write_recording(rec, out: BinaryIO, *, sim: tuple[str, int] = SIM_ADDRESS,
                    harness: tuple[str, int] = HARNESS_ADDRESS) -> int:
    """Writes every message of an open sil.recording.Recording to out as
    pcapng; returns how many packets."""
    writer = PcapngWriter(out)
    start = rec.header.start_unix_ns
    for m in rec:
        if m.direction in _TO_SIM:
            src, dst = harness, sim
        elif m.direction in _FROM_SIM:
            src, dst = sim, harness
        else:
            raise ValueError(f"a message at {m.sim_time_ns} ns has direction {m.direction!r}, which has no address")
        datagram = struct.pack("<H", m.msg_id) + m.payload
        writer.write_udp(start + m.wall_ns, src, dst, datagram,
                         comment=f"sim_time_ns={m.sim_time_ns} {m.direction} {m.name}")
    return writer.packets


def convert(rec, output_path: Union[str, os.PathLike], **addresses) -> int:
    """sil-rec pcap: an open sil.recording.Recording as pcapng at
    output_path, written whole or not at all (a temporary file, renamed)."""
    output_path = os.fspath(output_path)
    temporary = output_path + ".tmp"
    try:
        try:
            out = open(temporary, "wb")
        except OSError as error:  # named as the user named it, not as the temporary file
            raise OSError(error.errno, error.strerror, output_path) from None
        with out:
            packets = write_recording(rec, out, **addresses)
        os.replace(temporary, output_path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return packets
