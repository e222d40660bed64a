"""The control plane's framing (protocol/proto/sil_control.proto): a request
datagram is the u16 little-endian MsgId 0xFFF0 followed by a serialized
sil.control.Request; the reply is 0xFFF1 followed by a serialized Reply that
echoes the request's sequence."""

from __future__ import annotations

import struct
from typing import Optional

from google.protobuf.message import DecodeError as _ProtobufDecodeError

from sil._protos import control_pb as pb

CONTROL_REQUEST_ID = 0xFFF0
CONTROL_REPLY_ID = 0xFFF1
REQUEST_HEADER = struct.pack("<H", CONTROL_REQUEST_ID)
REPLY_HEADER = struct.pack("<H", CONTROL_REPLY_ID)


class ControlError(RuntimeError):
    """The sim answered a control request with an error. ``code`` is the
    Error.Code name (e.g. ``"WRONG_CLOCK"``), ``detail`` the sim's message."""

    def __init__(self, request: str, code: str, detail: str) -> None:
        super().__init__(f"the sim refused {request}: {code}: {detail}")
        self.request = request
        self.code = code
        self.detail = detail


def encode_request(sequence: int, **command) -> bytes:
    """The datagram for one request, e.g. encode_request(3, hello=pb.Hello())."""
    if len(command) != 1:
        raise TypeError("encode_request() takes exactly one command")
    (name, value), = command.items()
    request = pb.Request(sequence=sequence)
    getattr(request, name).CopyFrom(value)
    return REQUEST_HEADER + request.SerializeToString()


def param_value_pb(value) -> pb.ParamValue:
    """A Python bool, int or float as a sil.control.ParamValue."""
    if isinstance(value, bool):
        return pb.ParamValue(bool_value=value)
    if isinstance(value, int):
        if -(2 ** 63) <= value < 2 ** 63:
            return pb.ParamValue(int_value=value)
        if 0 <= value < 2 ** 64:
            return pb.ParamValue(uint_value=value)
        raise ValueError(f"{value} does not fit any parameter type (int64 or uint64)")
    if isinstance(value, float):
        return pb.ParamValue(float_value=value)
    raise TypeError(f"a parameter value is a bool, an int or a float, got {type(value).__name__}")


def decode_reply(datagram: bytes) -> Optional[pb.Reply]:
    """The Reply in a 0xFFF1 datagram, or None when it does not parse."""
    reply = pb.Reply()
    try:
        reply.ParseFromString(datagram[2:])
    except _ProtobufDecodeError:
        return None
    return reply


def describe(request: pb.Request) -> str:
    """'Advance(ticks=5)': a request for error messages."""
    command = request.WhichOneof("command") or "nothing"
    body = getattr(request, command, None)
    text = str(body).strip().replace("\n", ", ") if body is not None else ""
    return f"{command.title().replace('_', '')}({text})"


def error_name(code: int) -> str:
    try:
        return pb.Error.Code.Name(code)
    except ValueError:
        return f"code {code}"
