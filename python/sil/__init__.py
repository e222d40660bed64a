"""Drive a sil-sim from Python: message classes, the wire format, a UDP client,
a process launcher and a pytest plugin (fixtures ``sim``, ``sil_client``,
``sil_client_factory``).

The message classes come from the C++ catalogue through ``sil._core``; there is
no list of them here, so a message added in C++ appears here after a rebuild.
"""

from sil._core import *  # noqa: F401,F403  (the message classes are only known at build time)
from sil._core import (
    HEADER_SIZE,
    MAX_DATAGRAM_SIZE,
    WIRE_VERSION,
    DecodeError,
    MsgId,
    catalogue_hash,
    decode,
    encode,
    message_types,
)
from sil.client import SilTimeout, SimClient
from sil.launcher import SimProcess, SimStartError

__all__ = [
    *(cls.__name__ for cls in message_types()),
    "DecodeError",
    "HEADER_SIZE",
    "MAX_DATAGRAM_SIZE",
    "MsgId",
    "SilTimeout",
    "SimClient",
    "SimProcess",
    "SimStartError",
    "WIRE_VERSION",
    "catalogue_hash",
    "decode",
    "encode",
    "message_types",
]
