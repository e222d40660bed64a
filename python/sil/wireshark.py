"""Writes a Wireshark dissector (Lua, Wireshark 4.0 or later) for one
system's wire format, from its message catalogue (docs/wireshark.md):

    python3 -m sil.wireshark --module thermal_sil [-o thermal_sil.lua]
    python3 -m sil.wireshark --recording run.silrec [-o OUT.lua]
    python3 -m sil.wireshark --sim 127.0.0.1:40313 [-o OUT.lua]

The dissector names every message and field (little-endian, one ProtoField
per field: ``sil.<Message>.<field>``), marks unknown MsgIds and wrong sizes,
splits bundles (0xFFF2) and decodes control requests and replies (0xFFF0,
0xFFF1) itself, from a schema written here from sil.control's protobuf
descriptors (``sil.control.<Type>.<field>``): nothing to set up in
Wireshark's protobuf preferences. It claims UDP datagrams heuristically,
is offered in "Decode As" (UDP port), and can be bound to a port (--port,
or the preference Protocols > SIL > UDP port).

Exit status 0, or 2 with a one-line message for a bad command line or a
catalogue that cannot be read.
"""

from __future__ import annotations

import argparse
import os
import select
import socket
import sys
import time
from typing import Optional, Sequence

from google.protobuf import descriptor as _descriptor

from sil._protos import control_pb as pb
from sil.catalogue import Catalogue, CatalogueError, MessageInfo
from sil.control import CONTROL_REPLY_ID, decode_reply, encode_request

PROG = "python3 -m sil.wireshark"
BUNDLE_ID = 0xFFF2

# Catalogue kinds -> (ProtoField constructor, base).
_FIELD_TYPE = {"u8": "uint8", "i8": "int8", "u16": "uint16", "i16": "int16", "u32": "uint32", "i32": "int32",
               "u64": "uint64", "i64": "int64", "f32": "float", "f64": "double", "text": "string"}

_FD = _descriptor.FieldDescriptor
# Protobuf field types -> (kind the Lua decoder switches on, ProtoField constructor).
_PB_TYPE = {
    _FD.TYPE_UINT32: ("uint32", "uint32"), _FD.TYPE_UINT64: ("uint64", "uint64"),
    _FD.TYPE_INT32: ("int32", "int32"), _FD.TYPE_INT64: ("int64", "int64"),
    _FD.TYPE_SINT32: ("sint32", "int32"), _FD.TYPE_SINT64: ("sint64", "int64"),
    _FD.TYPE_BOOL: ("bool", "bool"), _FD.TYPE_ENUM: ("enum", "int32"),
    _FD.TYPE_FIXED32: ("fixed32", "uint32"), _FD.TYPE_SFIXED32: ("sfixed32", "int32"),
    _FD.TYPE_FLOAT: ("float", "float"),
    _FD.TYPE_FIXED64: ("fixed64", "uint64"), _FD.TYPE_SFIXED64: ("sfixed64", "int64"),
    _FD.TYPE_DOUBLE: ("double", "double"),
    _FD.TYPE_STRING: ("string", "string"), _FD.TYPE_BYTES: ("bytes", "bytes"),
    _FD.TYPE_MESSAGE: ("message", "none"),
}
_WIRE_TYPE = {"double": 1, "fixed64": 1, "sfixed64": 1, "float": 5, "fixed32": 5, "sfixed32": 5,
              "string": 2, "bytes": 2, "message": 2}  # every other kind is a varint (0)
_PB_PACKAGE = "sil.control."


class GeneratorError(ValueError):
    """A catalogue that cannot be had (no module, no sim answering, a bad recording)."""


def _lua_string(text: str) -> str:
    # Catalogue names are identifiers; descriptions are ours. Escape anyway.
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _message_lines(catalogue: Catalogue) -> list[str]:
    lines = []
    for info in catalogue:
        fields = []
        for field in info.fields:
            abbrev = f"sil.{info.name}.{field.name}"
            fields.append(f"    {{pf = ProtoField.{_FIELD_TYPE[field.kind]}({_lua_string(abbrev)}, "
                          f"{_lua_string(field.name)}), name = {_lua_string(field.name)}, kind = {_lua_string(field.kind)}, "
                          f"offset = {field.offset}, size = {field.size}}},")
        lines.append(f"  [{info.id}] = {{name = {_lua_string(info.name)}, size = {info.size}, fields = {{")
        lines.extend(fields)
        lines.append("  }},")
    return lines


def _protobuf_types() -> list:
    """sil.control.Request and Reply and every message type they reach."""
    seen: dict[str, object] = {}
    pending = [pb.Request.DESCRIPTOR, pb.Reply.DESCRIPTOR]
    while pending:
        message = pending.pop(0)
        if message.full_name in seen:
            continue
        seen[message.full_name] = message
        pending.extend(field.message_type for field in message.fields if field.message_type is not None)
    return list(seen.values())


def _protobuf_lines() -> list[str]:
    lines = []
    for message in _protobuf_types():
        short = message.full_name[len(_PB_PACKAGE):]
        lines.append(f"  [{_lua_string(short)}] = {{")
        for field in message.fields:
            kind, constructor = _PB_TYPE[field.type]
            abbrev = _lua_string(f"sil.control.{short}.{field.name}")
            extra = ""
            if kind == "enum":
                names = ", ".join(f"[{value.number}] = {_lua_string(value.name)}" for value in field.enum_type.values)
                extra = f", base.DEC, {{{names}}}"
            pf = f"ProtoField.{constructor}({abbrev}, {_lua_string(field.name)}{extra})"
            nested = (f", type = {_lua_string(field.message_type.full_name[len(_PB_PACKAGE):])}"
                      if kind == "message" else "")
            lines.append(f"    [{field.number}] = {{pf = {pf}, name = {_lua_string(field.name)}, kind = {_lua_string(kind)}, "
                         f"wire = {_WIRE_TYPE.get(kind, 0)}{nested}}},")
        lines.append("  },")
    return lines


def generate(catalogue: Catalogue, *, source: str, port: int = 0) -> str:
    """The Lua dissector for catalogue; source says where it came from (a
    comment in the file), port is the UDP port it binds by default (0: none,
    heuristics and Decode As only)."""
    if not 0 <= port <= 0xFFFF:
        raise ValueError(f"port {port} is not 0-65535")
    for info in catalogue:
        if info.id >= 0xFF00:
            raise CatalogueError(f"message {info.name} has the reserved MsgId {info.id:#06x}")
    names = ", ".join(f"[{info.id}] = {_lua_string(info.name)}" for info in catalogue)
    return _TEMPLATE.format(
        source=source.replace("\n", " "),
        hash=catalogue.hash,
        message_names=names,
        messages="\n".join(_message_lines(catalogue)),
        protobuf="\n".join(_protobuf_lines()),
        port=port,
    )


# -- where a catalogue comes from ---------------------------------------------


def catalogue_of_module(name: str) -> Catalogue:
    from sil._system import SystemModuleError, use_system
    try:
        use_system(name)
    except SystemModuleError as error:
        raise GeneratorError(str(error)) from None
    return Catalogue.local()


def catalogue_of_recording(path: str) -> Catalogue:
    from sil.recording import Recording
    with Recording(path) as rec:
        return rec.header.catalogue


def catalogue_of_sim(host: str, port: int, timeout_s: float = 5.0) -> Catalogue:
    """Asks a running sim (GetCatalogue). A query: it never takes the sim's
    telemetry from the harness attached to it (docs/control-plane.md)."""
    sequence = 0x5EED
    request = encode_request(sequence, get_catalogue=pb.GetCatalogue())
    deadline = time.monotonic() + timeout_s
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect((host, port))
        sock.send(request)
        # Bounded: at most one wait per datagram until the deadline; telemetry may arrive first.
        while (left := deadline - time.monotonic()) > 0:
            if not select.select([sock], [], [], left)[0]:
                break
            try:
                datagram = sock.recv(65535)
            except ConnectionRefusedError:
                raise GeneratorError(f"nothing listens on {host}:{port}") from None
            if datagram[:2] != CONTROL_REPLY_ID.to_bytes(2, "little"):
                continue
            reply = decode_reply(datagram)
            if reply is not None and reply.sequence == sequence:
                if reply.WhichOneof("result") != "catalogue":
                    raise GeneratorError(f"{host}:{port} answered GetCatalogue with {reply.WhichOneof('result')}")
                return Catalogue.from_proto(reply.catalogue)
    raise GeneratorError(f"no reply to GetCatalogue from {host}:{port} within {timeout_s:g} s")


def _address(text: str) -> tuple[str, int]:
    host, colon, port = text.rpartition(":")
    if not colon or not host or not port.isdigit() or not 0 < int(port) <= 0xFFFF:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT")
    return host, int(port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Write a Wireshark Lua dissector for a sil system.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--module", metavar="NAME", help="a system's Python module, e.g. thermal_sil or sil._core")
    source.add_argument("--recording", metavar="FILE", help="the catalogue in a recording's header")
    source.add_argument("--sim", type=_address, metavar="HOST:PORT", help="ask a running sim (GetCatalogue)")
    parser.add_argument("--port", type=int, default=0, metavar="N",
                        help="UDP port the dissector binds by default (default 0: heuristics and Decode As only)")
    parser.add_argument("-o", "--output", metavar="OUT.lua", help="write here (default: stdout)")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.module:
            catalogue, source = catalogue_of_module(args.module), f"module {args.module}"
        elif args.recording:
            catalogue, source = catalogue_of_recording(args.recording), f"recording {os.path.basename(args.recording)}"
        else:
            catalogue, source = catalogue_of_sim(*args.sim), "a running sim (GetCatalogue)"
        text = generate(catalogue, source=source, port=args.port)
        if args.output:
            temporary = args.output + ".tmp"
            with open(temporary, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, args.output)
        else:
            sys.stdout.write(text)
    except (GeneratorError, ValueError, OSError) as error:
        detail = f"{error.filename}: {error.strerror}" if isinstance(error, OSError) and error.filename else error
        print(f"{PROG}: error: {detail}", file=sys.stderr)
        return 2
    return 0


_TEMPLATE = r'''-- sil dissector, generated by `python3 -m sil.wireshark` from {source}
-- (catalogue hash 0x{hash:08x}); do not edit. Wireshark 4.0 or later.
-- Load: wireshark -X lua_script:THIS.lua, or copy it to ~/.local/lib/wireshark/plugins/.
-- docs/wireshark.md says what it shows.

local sil = Proto("sil", "sil simulation")

local REQUEST_ID, REPLY_ID, BUNDLE_ID = 0xFFF0, 0xFFF1, 0xFFF2

local MESSAGES = {{
{messages}
}}

-- sil.control messages (protocol/proto/sil_control.proto), field number -> field.
local CONTROL = {{
{protobuf}
}}

local ids = {{{message_names}}}
ids[REQUEST_ID], ids[REPLY_ID], ids[BUNDLE_ID] = "ControlRequest", "ControlReply", "Bundle"

local f_msg_id = ProtoField.uint16("sil.msg_id", "MsgId", base.DEC, ids)
local f_name = ProtoField.string("sil.message", "Message")
local f_payload = ProtoField.bytes("sil.payload", "Payload")
local f_item_length = ProtoField.uint16("sil.bundle.length", "Item length")
local f_items = ProtoField.uint16("sil.bundle.items", "Items")
local f_control_unknown = ProtoField.bytes("sil.control.unknown", "Unknown protobuf field")
local f_request = ProtoField.none("sil.control.request", "sil.control.Request")
local f_reply = ProtoField.none("sil.control.reply", "sil.control.Reply")

local fields = {{f_msg_id, f_name, f_payload, f_item_length, f_items, f_control_unknown, f_request, f_reply}}
for _, m in pairs(MESSAGES) do
  for _, f in ipairs(m.fields) do fields[#fields + 1] = f.pf end
end
for _, t in pairs(CONTROL) do
  for _, f in pairs(t) do fields[#fields + 1] = f.pf end
end
sil.fields = fields

local e_unknown = ProtoExpert.new("sil.unknown_id", "MsgId not in the catalogue", expert.group.UNDECODED,
                                  expert.severity.WARN)
local e_size = ProtoExpert.new("sil.wrong_size", "Length is not 2 + the message's payload size",
                               expert.group.MALFORMED, expert.severity.ERROR)
local e_short = ProtoExpert.new("sil.too_short", "Fewer than 2 bytes: no MsgId", expert.group.MALFORMED,
                                expert.severity.ERROR)
local e_bundle = ProtoExpert.new("sil.malformed_bundle", "Malformed bundle", expert.group.MALFORMED,
                                 expert.severity.ERROR)
local e_control = ProtoExpert.new("sil.malformed_control", "Control body is not a valid sil.control message",
                                  expert.group.MALFORMED, expert.severity.ERROR)
sil.experts = {{e_unknown, e_size, e_short, e_bundle, e_control}}

-- Protobuf ----------------------------------------------------------------

local function varint(tvb, pos, stop)
  local value, shift = UInt64(0), 0
  while pos < stop and shift < 64 do
    local byte = tvb(pos, 1):uint()
    pos = pos + 1
    value = value:bor(UInt64(byte % 128):lshift(shift))
    if byte < 128 then return value, pos end
    shift = shift + 7
  end
  return nil, pos
end

local function signed(u) return Int64.fromhex(u:tohex()) end

local function varint_value(kind, u)
  if kind == "uint64" then return u end
  if kind == "int64" then return signed(u) end
  if kind == "int32" or kind == "enum" then return signed(u):tonumber() end
  if kind == "bool" then return u ~= UInt64(0) end
  if kind == "sint32" or kind == "sint64" then
    local z = u:rshift(1)
    if u:band(1) ~= UInt64(0) then z = z:bnot() end
    return kind == "sint64" and signed(z) or signed(z):tonumber()
  end
  return u:tonumber()  -- uint32
end

-- A message field's value as the Info column shows it.
local function summary(kind, range)
  if kind == "f32" then return string.format("%.6g", range:le_float()) end
  if kind == "f64" then return string.format("%.15g", range:le_float()) end
  if kind == "u64" then return tostring(range:le_uint64()) end
  if kind == "i64" then return tostring(range:le_int64()) end
  if kind:sub(1, 1) == "u" then return tostring(range:le_uint()) end
  return tostring(range:le_int())
end

-- Decodes bytes [pos, stop) as CONTROL[type_name] into tree (nil: only
-- checks). Returns true when every field parsed. seen (optional) collects
-- the names of the fields at this level, for the Info column.
local function decode_protobuf(tvb, pos, stop, type_name, tree, depth, seen)
  local schema = CONTROL[type_name] or {{}}
  if depth > 16 then return false end
  while pos < stop do
    local start = pos
    local key
    key, pos = varint(tvb, pos, stop)
    if key == nil then return false end
    local number, wire = key:rshift(3):tonumber(), key:band(7):tonumber()
    local field = schema[number]
    if field ~= nil and field.wire ~= wire then field = nil end
    if seen and field then seen[#seen + 1] = field.kind == "message" and field.name or nil end
    if wire == 0 then
      local value
      value, pos = varint(tvb, pos, stop)
      if value == nil then return false end
      if tree and field then tree:add(field.pf, tvb(start, pos - start), varint_value(field.kind, value)) end
    elseif wire == 1 or wire == 5 then
      local width = wire == 1 and 8 or 4
      if pos + width > stop then return false end
      if tree and field then tree:add_le(field.pf, tvb(pos, width)) end
      pos = pos + width
    elseif wire == 2 then
      local length
      length, pos = varint(tvb, pos, stop)
      if length == nil or length > UInt64(stop - pos) then return false end
      length = length:tonumber()
      local body = tvb(pos, length)
      if field and field.kind == "message" then
        local item = tree and tree:add(field.pf, body)
        if not decode_protobuf(tvb, pos, pos + length, field.type, item, depth + 1) then return false end
      elseif tree and field and field.kind == "string" then
        tree:add(field.pf, body, body:string(ENC_UTF_8))
      elseif tree and field then
        tree:add(field.pf, body)
      end
      pos = pos + length
    else
      return false
    end
    if tree and field == nil then
      tree:add(f_control_unknown, tvb(start, pos - start)):append_text(" (field " .. number .. ", wire type " .. wire .. ")")
    end
  end
  return true
end

-- Datagrams ------------------------------------------------------------------

local function text_value(range)
  local raw = range:raw()
  local nul = raw:find("\0", 1, true)
  return nul and raw:sub(1, nul - 1) or raw
end

local function plausible(tvb, offset, length, nested)
  if length < 2 then return false end
  local id = tvb(offset, 2):le_uint()
  local m = MESSAGES[id]
  if m then return length == 2 + m.size end
  if id == REQUEST_ID or id == REPLY_ID then
    return decode_protobuf(tvb, offset + 2, offset + length, id == REQUEST_ID and "Request" or "Reply", nil, 0)
  end
  if id == BUNDLE_ID and not nested then
    local pos, stop = offset + 2, offset + length
    if pos == stop then return false end
    while pos < stop do
      if pos + 2 > stop then return false end
      local n = tvb(pos, 2):le_uint()
      if pos + 2 + n > stop or not plausible(tvb, pos + 2, n, true) then return false end
      pos = pos + 2 + n
    end
    return true
  end
  return false
end

-- One datagram (or bundled item) at [offset, offset + length): returns what
-- the Info column says about it.
local function dissect_datagram(tvb, offset, length, pinfo, tree, nested)
  local range = tvb(offset, length)
  local t = tree:add(sil, range)
  if length < 2 then
    t:add_proto_expert_info(e_short)
    return "too short"
  end
  local id = tvb(offset, 2):le_uint()
  t:add_le(f_msg_id, tvb(offset, 2))
  local body_length = length - 2
  local m = MESSAGES[id]
  if m then
    t:add(f_name, tvb(offset, 2), m.name):set_generated()
    t:append_text(", " .. m.name)
    if body_length ~= m.size then
      t:add_proto_expert_info(e_size, "Length " .. length .. ", expected " .. (2 + m.size))
      if body_length > 0 then t:add(f_payload, tvb(offset + 2, body_length)) end
      return m.name .. " [wrong size]"
    end
    local info = {{m.name}}
    for _, f in ipairs(m.fields) do
      local field_range = tvb(offset + 2 + f.offset, f.size)
      local value
      if f.kind == "text" then
        value = text_value(field_range)
        t:add(f.pf, field_range, value)
        value = '"' .. value .. '"'
      else
        t:add_le(f.pf, field_range)
        value = summary(f.kind, field_range)
      end
      info[#info + 1] = f.name .. "=" .. value
    end
    return table.concat(info, " ")
  end
  if id == REQUEST_ID or id == REPLY_ID then
    local name = id == REQUEST_ID and "ControlRequest" or "ControlReply"
    t:add(f_name, tvb(offset, 2), name):set_generated()
    t:append_text(", " .. name)
    local body = t:add(id == REQUEST_ID and f_request or f_reply, tvb(offset + 2, body_length))
    local seen = {{}}
    if not decode_protobuf(tvb, offset + 2, offset + length, id == REQUEST_ID and "Request" or "Reply", body, 0,
                           seen) then
      t:add_proto_expert_info(e_control)
      return name .. " [malformed]"
    end
    return name .. (#seen > 0 and " " .. table.concat(seen, " ") or "")
  end
  if id == BUNDLE_ID and not nested then
    t:add(f_name, tvb(offset, 2), "Bundle"):set_generated()
    local pos, stop, names = offset + 2, offset + length, {{}}
    while pos < stop do
      if pos + 2 > stop then
        t:add_proto_expert_info(e_bundle, "Item length cut short")
        return "Bundle [malformed]"
      end
      local n = tvb(pos, 2):le_uint()
      t:add_le(f_item_length, tvb(pos, 2))
      if pos + 2 + n > stop then
        t:add_proto_expert_info(e_bundle, "Item of " .. n .. " bytes runs past the datagram")
        return "Bundle [malformed]"
      end
      names[#names + 1] = dissect_datagram(tvb, pos + 2, n, pinfo, t, true)
      pos = pos + 2 + n
    end
    if #names == 0 then t:add_proto_expert_info(e_bundle, "Empty bundle") end
    t:add(f_items, tvb(offset, 2), #names):set_generated()
    t:append_text(", Bundle of " .. #names)
    return "Bundle: " .. table.concat(names, ", ")
  end
  t:add_proto_expert_info(e_unknown, "MsgId " .. id .. " is not in the catalogue")
  t:append_text(", unknown MsgId " .. id)
  if body_length > 0 then t:add(f_payload, tvb(offset + 2, body_length)) end
  return "Unknown MsgId " .. id
end

function sil.dissector(tvb, pinfo, tree)
  pinfo.cols.protocol = "SIL"
  pinfo.cols.info = dissect_datagram(tvb, 0, tvb:len(), pinfo, tree, false)
  return tvb:len()
end

local function heuristic(tvb, pinfo, tree)
  if not plausible(tvb, 0, tvb:len(), false) then return false end
  sil.dissector(tvb, pinfo, tree)
  return true
end

sil.prefs.port = Pref.uint("UDP port", {port}, "A sim's UDP port (0: none; sil-sim picks one per run)")
local bound = 0
local function bind_port()
  local udp = DissectorTable.get("udp.port")
  if bound ~= 0 then udp:remove(bound, sil) end
  bound = sil.prefs.port
  if bound ~= 0 then udp:add(bound, sil) end
end
function sil.prefs_changed() bind_port() end
bind_port()
DissectorTable.get("udp.port"):add_for_decode_as(sil)
sil:register_heuristic("udp", heuristic)
'''


if __name__ == "__main__":
    sys.exit(main())
