"""The message catalogue as data: every message's id, name, size and field
layout. Built from this build's system module (``Catalogue.local()``, see
sil._system) or from a sim's GetCatalogue reply (``Catalogue.from_proto()``),
it decodes and encodes messages for which this build has no compiled class,
e.g. a message added to the sim after this harness was built.

``Decoder`` picks, per MsgId, the compiled class when this build has one with
the same layout as the sim's, and a class made from the sim's catalogue
otherwise. Those classes behave like the compiled ones: keyword
construction, attribute access, ``to_bytes``/``from_bytes``, ``fields()``,
``ID``/``SIZE``/``NAME``, equality by bytes.
"""

from __future__ import annotations

import keyword
import math
import struct
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional, Union

from sil._system import system_module

KINDS = ("u8", "i8", "u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64", "text")
_SCALAR_FORMAT = {"u8": "<B", "i8": "<b", "u16": "<H", "i16": "<h", "u32": "<I", "i32": "<i",
                  "u64": "<Q", "i64": "<q", "f32": "<f", "f64": "<d"}
_SCALAR_SIZE = {kind: struct.calcsize(fmt) for kind, fmt in _SCALAR_FORMAT.items()}
INT_RANGES = {kind: ((0, 2 ** (8 * size) - 1) if kind.startswith("u") else
                     (-(2 ** (8 * size - 1)), 2 ** (8 * size - 1) - 1))
              for kind, size in _SCALAR_SIZE.items() if kind[0] in "ui"}
# What a message class has besides its fields; with Python's keywords, the
# names the C++ catalogue refuses (ipc/field_names.hpp, RESERVED_FIELD_NAMES
# in a system module; tests/python hold the two lists equal).
_RESERVED_NAMES = frozenset({"ID", "SIZE", "NAME", "INFO", "to_bytes", "from_bytes", "fields", "zero"})


class CatalogueError(ValueError):
    """A catalogue (usually one a sim sent) that does not describe valid messages."""


@dataclass(frozen=True)
class FieldInfo:
    name: str
    kind: str    # u8 i8 u16 i16 u32 i32 u64 i64 f32 f64 text
    offset: int  # bytes from the start of the payload
    size: int    # bytes
    count: int   # 1 for scalars; capacity in bytes for text

    @property
    def is_int(self) -> bool:
        return self.kind in INT_RANGES

    @property
    def is_float(self) -> bool:
        return self.kind in ("f32", "f64")

    @property
    def is_text(self) -> bool:
        return self.kind == "text"


@dataclass(frozen=True)
class MessageInfo:
    id: int
    name: str
    size: int
    fields: tuple[FieldInfo, ...]

    def field(self, name: str) -> Optional[FieldInfo]:
        for info in self.fields:
            if info.name == name:
                return info
        return None

    def field_names(self) -> str:
        return ", ".join(f.name for f in self.fields) or "(none)"

    def layout(self) -> tuple:
        """What two builds must agree on for the bytes to mean the same."""
        return (self.id, self.name, self.size, self.fields)


PARAM_KINDS = ("bool", "i32", "i64", "u32", "u64", "f64")


@dataclass(frozen=True)
class ParamInfo:
    """One parameter of the system (docs/parameters.md): its qualified name
    ("thermostat.hysteresis_c"), type, default (the instance's value at
    start, before --param), inclusive range, unit, description and rules."""

    name: str
    type: str  # bool i32 i64 u32 u64 f64
    default: Union[bool, int, float]
    min: Union[bool, int, float]
    max: Union[bool, int, float]
    unit: str
    description: str
    read_only: bool  # never set
    restart: bool    # set before start only (--param, @pytest.mark.sil_params)


def param_value_of(value) -> Union[bool, int, float, None]:
    """A sil.control.ParamValue as Python's bool, int or float (None: unset)."""
    which = value.WhichOneof("value")
    return None if which is None else getattr(value, which)


@dataclass(frozen=True)
class CounterInfo:
    """One counter a service declared (docs/counters.md): its qualified
    name ("thermostat.rejected_set_points") and description."""

    name: str
    description: str


class Catalogue:
    """Message layouts by id and by name, in catalogue order, and the
    system's parameters and counters (``params``, ``counters``, in catalogue
    order)."""

    def __init__(self, messages: Iterable[MessageInfo], hash: Optional[int] = None,
                 params: Iterable[ParamInfo] = (), counters: Iterable[CounterInfo] = ()) -> None:
        self.params = tuple(params)
        self.counters = tuple(counters)
        self._messages = list(messages)
        self._by_id: dict[int, MessageInfo] = {}
        self._by_name: dict[str, MessageInfo] = {}
        for info in self._messages:
            _check_message(info)
            if info.id in self._by_id:
                raise CatalogueError(f"two messages have MsgId {info.id}: {self._by_id[info.id].name} and {info.name}")
            if info.name in self._by_name:
                raise CatalogueError(f"two messages are named {info.name}")
            self._by_id[info.id] = info
            self._by_name[info.name] = info
        self.hash = self.compute_hash() if hash is None else hash

    @classmethod
    def local(cls) -> "Catalogue":
        """This build's catalogue, from the system module in use."""
        system = system_module()
        return cls((MessageInfo(msg_id, name, size, tuple(FieldInfo(*field) for field in fields))
                    for msg_id, name, size, fields in system.catalogue_info()), system.catalogue_hash,
                   (ParamInfo(*param) for param in system.params_info()),
                   (CounterInfo(*counter) for counter in system.counters_info()))

    @classmethod
    def from_proto(cls, catalogue) -> "Catalogue":
        """From a sil.control.Catalogue (the reply to GetCatalogue). Raises
        CatalogueError when it does not describe valid messages."""
        messages = []
        for message in catalogue.messages:
            fields = tuple(FieldInfo(f.name, f.type, f.offset, f.size, f.count) for f in message.fields)
            messages.append(MessageInfo(message.id, message.name, message.size, fields))
        params = (ParamInfo(p.name, p.type, param_value_of(p.default_value), param_value_of(p.min),
                            param_value_of(p.max), p.unit, p.description, p.read_only, p.restart)
                  for p in catalogue.params)
        counters = (CounterInfo(c.name, c.description) for c in catalogue.counters)
        return cls(messages, catalogue.hash, params, counters)

    def compute_hash(self) -> int:
        """The catalogue hash sil-sim reports (FNV-1a over every message's id,
        name, size and field layout, then every parameter's name, type, range,
        rules and unit), computed from these layouts."""
        value = 2166136261

        def mix_bytes(data: bytes) -> None:
            nonlocal value
            for byte in data:
                value = ((value ^ byte) * 16777619) & 0xFFFFFFFF

        def mix_u64(number: int) -> None:
            mix_bytes(number.to_bytes(8, "little"))

        for info in self._messages:
            mix_u64(info.id)
            mix_bytes(info.name.encode())
            mix_u64(info.size)
            for field in info.fields:
                mix_bytes(field.name.encode())
                mix_u64(KINDS.index(field.kind))
                mix_u64(field.offset)
                mix_u64(field.size)
        for param in self.params:  # as sil/core/system.hpp folds them
            mix_bytes(param.name.encode())
            mix_u64(PARAM_KINDS.index(param.type))
            for bound in (param.min, param.max):
                if isinstance(bound, float):
                    mix_bytes(struct.pack("<d", bound))
                else:
                    mix_u64(int(bound) & 0xFFFFFFFFFFFFFFFF)
            mix_u64(int(param.read_only) | int(param.restart) << 1)
            mix_bytes(param.unit.encode() + b"\0")
        return value

    def __iter__(self) -> Iterator[MessageInfo]:
        return iter(self._messages)

    def __len__(self) -> int:
        return len(self._messages)

    def __contains__(self, key: Union[int, str]) -> bool:
        return self.get(key) is not None

    def get(self, key: Union[int, str]) -> Optional[MessageInfo]:
        if isinstance(key, str):
            return self._by_name.get(key)
        return self._by_id.get(int(key))

    def __getitem__(self, key: Union[int, str]) -> MessageInfo:
        info = self.get(key)
        if info is None:
            raise KeyError(f"no message {key!r} in the catalogue (messages: {', '.join(self._by_name)})")
        return info

    def __repr__(self) -> str:
        return f"<Catalogue {self.hash:#010x}: {', '.join(self._by_name)}>"


def _check_message(info: MessageInfo) -> None:
    where = f"message {info.name!r} (MsgId {info.id})"
    if not (isinstance(info.id, int) and 0 <= info.id <= 0xFFFF):
        raise CatalogueError(f"{where}: MsgId is not 0-65535")
    if not info.name.isidentifier() or keyword.iskeyword(info.name):
        raise CatalogueError(f"{where}: the name is not a Python identifier")
    offset = 0
    for field in info.fields:
        if field.kind not in KINDS:
            raise CatalogueError(f"{where}: field {field.name!r} has unknown type {field.kind!r}")
        if not field.name.isidentifier() or keyword.iskeyword(field.name) or field.name.startswith("_") \
                or field.name in _RESERVED_NAMES:
            raise CatalogueError(f"{where}: field name {field.name!r} cannot be a Python attribute")
        if field.offset != offset:
            raise CatalogueError(f"{where}: field {field.name!r} is at offset {field.offset}, expected {offset}")
        expected = field.count if field.kind == "text" else _SCALAR_SIZE[field.kind]
        if field.size != expected or field.size < 1 or (field.kind != "text" and field.count != 1):
            raise CatalogueError(f"{where}: field {field.name!r} ({field.kind}) has size {field.size} "
                                 f"and count {field.count}")
        offset += field.size
    if offset != info.size:
        raise CatalogueError(f"{where}: fields cover {offset} bytes, the message has {info.size}")
    if len({field.name for field in info.fields}) != len(info.fields):
        raise CatalogueError(f"{where}: two fields share a name")


# -- classes made from a catalogue ------------------------------------------

def _decode_text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


class CatalogueMessage:
    """Base of the classes ``message_class()`` makes from a MessageInfo."""

    __slots__ = ()
    INFO: MessageInfo
    ID: int
    SIZE: int
    NAME: str

    def __init__(self, *args, **kwargs) -> None:
        self._fill(args, kwargs, zero_missing=False)

    @classmethod
    def zero(cls, *args, **fields) -> "CatalogueMessage":
        """Every field zero, then the fields given set (checked as the
        constructor checks them)."""
        message = cls.__new__(cls)
        message._fill(args, fields, zero_missing=True)
        return message

    def _fill(self, args: tuple, kwargs: dict, zero_missing: bool) -> None:
        # The rule of the compiled classes (python/src/message_class.hpp
        # from_arguments), with the same messages: a field left out is an
        # error unless zeros were asked for.
        cls = type(self)
        call = f"{cls.NAME}.zero()" if zero_missing else f"{cls.NAME}()"
        if args:
            raise TypeError(f"{call} takes keyword arguments only ({cls.INFO.field_names()}), "
                            f"got {len(args)} positional")
        for field in cls.INFO.fields:
            object.__setattr__(self, field.name, "" if field.is_text else 0.0 if field.is_float else 0)
        for name, value in kwargs.items():
            if cls.INFO.field(name) is None:
                raise TypeError(f"{call} got an unexpected keyword argument {name!r} "
                                f"(fields: {cls.INFO.field_names()})")
            setattr(self, name, value)
        missing = [field.name for field in cls.INFO.fields if field.name not in kwargs]
        if missing and not zero_missing:
            raise TypeError(f"{call} missing {len(missing)} field{'s' if len(missing) > 1 else ''}: "
                            f"{', '.join(repr(name) for name in missing)} (give every field, or use "
                            f"{cls.NAME}.zero(...) for zeros in the fields not given)")

    def __setattr__(self, name: str, value) -> None:
        field = type(self).INFO.field(name)
        if field is None:
            raise AttributeError(f"{type(self).NAME} has no field {name!r}")
        object.__setattr__(self, name, _checked(type(self).NAME, field, value))

    @classmethod
    def from_bytes(cls, data) -> "CatalogueMessage":
        data = bytes(memoryview(data))
        if len(data) != cls.SIZE:
            raise ValueError(f"{cls.NAME} needs exactly {cls.SIZE} bytes, got {len(data)}")
        message = cls.__new__(cls)
        for field in cls.INFO.fields:
            raw = data[field.offset:field.offset + field.size]
            value = _decode_text(raw) if field.is_text else struct.unpack(_SCALAR_FORMAT[field.kind], raw)[0]
            object.__setattr__(message, field.name, value)
        return message

    def to_bytes(self) -> bytes:
        parts = []
        for field in type(self).INFO.fields:
            value = getattr(self, field.name)
            if field.is_text:
                parts.append(value.encode("utf-8", "surrogateescape").ljust(field.size, b"\0"))
            else:
                parts.append(struct.pack(_SCALAR_FORMAT[field.kind], value))
        return b"".join(parts)

    @classmethod
    def fields(cls) -> list[tuple[str, str, int, int]]:
        return [(f.name, f.kind, f.offset, f.size) for f in cls.INFO.fields]

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.to_bytes() == other.to_bytes()

    __hash__ = None  # mutable, like the compiled classes

    def __repr__(self) -> str:
        values = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in type(self).INFO.fields)
        return f"{type(self).NAME}({values})"


def _checked(message: str, field: FieldInfo, value):
    ref = f"{message}.{field.name}"
    if field.is_text:
        if not isinstance(value, str):
            raise TypeError(f"{ref} must be a str, got {type(value).__name__}")
        encoded = value.encode("utf-8", "surrogateescape")
        if len(encoded) > field.size:
            raise ValueError(f"{ref} holds at most {field.size} bytes of UTF-8, got {len(encoded)}")
        if b"\0" in encoded:
            raise ValueError(f"{ref} must not contain NUL")
        return value
    if isinstance(value, bool):
        raise TypeError(f"{ref} must be {'a float' if field.is_float else 'an int'}, got bool")
    if field.is_float:
        if not isinstance(value, (int, float)):
            raise TypeError(f"{ref} must be a float, got {type(value).__name__}")
        value = float(value)
        if field.kind == "f32" and math.isfinite(value) and abs(value) > 3.4028234663852886e38:
            raise OverflowError(f"{ref}: {value!r} does not fit a f32")
        if field.kind == "f32":
            value = struct.unpack("<f", struct.pack("<f", value))[0]
        return value
    if not isinstance(value, int):
        raise TypeError(f"{ref} must be an int, got {type(value).__name__}")
    low, high = INT_RANGES[field.kind]
    if not low <= value <= high:
        raise OverflowError(f"{ref}: {value} is out of range for {field.kind} ({low}..{high})")
    return int(value)


def message_class(info: MessageInfo) -> type:
    """A message class for info, made at run time from its layout."""
    _check_message(info)
    return type(info.name, (CatalogueMessage,), {
        "__slots__": tuple(field.name for field in info.fields),
        "__doc__": f"{info.name}: MsgId {info.id}, {info.size} payload bytes (from the sim's catalogue).",
        "__module__": "sil.catalogue",
        "INFO": info,
        "ID": info.id,
        "SIZE": info.size,
        "NAME": info.name,
    })


class Decoder:
    """Turns (MsgId, payload) into message objects for one peer's catalogue:
    this build's compiled class where its layout is the peer's, else a class
    made from the peer's catalogue."""

    def __init__(self, remote: Optional[Catalogue] = None) -> None:
        self.local = Catalogue.local()
        self.remote = remote if remote is not None else self.local
        compiled = {int(cls.ID): cls for cls in system_module().message_types()}
        self._classes: dict[int, type] = {}
        self._compiled_ok: dict[int, bool] = {}
        for info in self.remote:
            mine = self.local.get(info.id)
            if mine is not None and mine.layout() == info.layout():
                self._classes[info.id] = compiled[info.id]
                self._compiled_ok[info.id] = True
            else:
                self._classes[info.id] = message_class(info)
        self._sizes = {info.id: info.size for info in self.remote}
        # Compiled classes whose id the peer lacks or lays out differently.
        self.mismatched = sorted(info.name for info in self.local if not self._compiled_ok.get(info.id))

    def info(self, msg_id: int) -> Optional[MessageInfo]:
        return self.remote.get(msg_id)

    def class_for(self, msg_id: int) -> Optional[type]:
        return self._classes.get(msg_id)

    def size_of(self, msg_id: int) -> Optional[int]:
        return self._sizes.get(msg_id)

    def decode(self, msg_id: int, payload: bytes):
        cls = self._classes.get(msg_id)
        if cls is None:
            raise ValueError(f"MsgId {msg_id} is not in the sim's catalogue")
        return cls.from_bytes(payload)

    def __getattr__(self, name: str) -> type:
        # decoder.SetPoint: the class this decoder uses for that message.
        if name.startswith("_"):
            raise AttributeError(name)
        info = self.remote.get(name)
        if info is None:
            raise AttributeError(f"the sim's catalogue has no message {name!r}")
        return self._classes[info.id]

    def resolve(self, msg_type) -> tuple[int, MessageInfo]:
        """The MsgId and the peer's layout for a message class (compiled or
        catalogue-made), a MsgId or a message name. Raises a clear error when
        the peer has no such message, or lays it out differently from the
        compiled class given."""
        if isinstance(msg_type, str):
            info = self.remote.get(msg_type)
            if info is None:
                raise LookupError(f"the sim's catalogue has no message {msg_type!r}")
            return info.id, info
        if isinstance(msg_type, type):
            msg_id = getattr(msg_type, "ID", None)
            if msg_id is None:
                raise TypeError(f"{msg_type.__name__} is not a message class (no ID)")
            msg_id = int(msg_id)
            info = self.remote.get(msg_id)
            if info is None:
                raise LookupError(f"the sim's catalogue has no MsgId {msg_id} ({msg_type.__name__})")
            if not issubclass(msg_type, CatalogueMessage) and not self._compiled_ok.get(msg_id):
                raise CatalogueMismatchError(
                    f"the sim lays out {info.name} (MsgId {msg_id}) differently from this build's "
                    f"{msg_type.__name__}; use the class made from its catalogue: target.types.{info.name}")
            return msg_id, info
        if isinstance(msg_type, (int, system_module().MsgId)) and not isinstance(msg_type, bool):
            info = self.remote.get(int(msg_type))
            if info is None:
                raise LookupError(f"the sim's catalogue has no MsgId {int(msg_type)}")
            return int(msg_type), info
        raise TypeError(f"expected a message class, a MsgId or a message name, got {msg_type!r}")

    def payload_of(self, message) -> tuple[int, bytes]:
        """(MsgId, payload bytes) of a message object, checked against the
        peer's layout."""
        msg_id, _info = self.resolve(type(message))
        return msg_id, message.to_bytes()


def check_request_pair(request_type: type, response_type: type, instead: str) -> None:
    """A request() pairs request and response by their request_id fields:
    raises TypeError, pointing at `instead`, when either type has none."""
    for what, cls in (("request", request_type), ("response type", response_type)):
        if "request_id" not in (name for name, *_ in cls.fields()):
            raise TypeError(f"request(): the {what} {cls.__name__} has no request_id field; use {instead}")


class CatalogueMismatchError(TypeError):
    """A compiled message class used with a sim whose catalogue lays that
    message out differently (or lacks it)."""
