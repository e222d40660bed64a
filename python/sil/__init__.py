"""Drive a sil simulation from Python: message classes, the wire format,
targets (the simulation in this process, a launched sil-sim, or one already
running) with one verb set on simulated time, a UDP client, a process
launcher and a pytest plugin (fixtures ``sil``, ``sim``, ``sil_client``,
``sil_client_factory``).

The message classes come from the C++ catalogue through ``sil._core``; there is
no list of them here, so a message added in C++ appears here after a rebuild.
"""

from sil._core import *  # noqa: F401,F403  (the message classes are only known at build time)
from sil._core import (
    BUNDLE_ID,
    HEADER_SIZE,
    MAX_DATAGRAM_SIZE,
    WIRE_VERSION,
    DecodeError,
    MsgId,
    catalogue_hash,
    decode,
    encode,
    message_types,
    unbundle,
)
from sil.catalogue import Catalogue, CatalogueError, CatalogueMismatchError, Decoder
from sil.client import SilTimeout, SimClient
from sil.control import ControlError
from sil.launcher import SimProcess, SimStartError
from sil.simtime import SimTime, ms, ns, s, us
from sil.step import StepLink
from sil.targets import (
    CatalogueMismatchWarning,
    InprocTarget,
    NetworkTarget,
    ProcessTarget,
    Received,
    SimHungError,
    Stats,
    Target,
)

__all__ = [
    *(cls.__name__ for cls in message_types()),
    "BUNDLE_ID",
    "Catalogue",
    "CatalogueError",
    "CatalogueMismatchError",
    "CatalogueMismatchWarning",
    "ControlError",
    "DecodeError",
    "Decoder",
    "HEADER_SIZE",
    "InprocTarget",
    "MAX_DATAGRAM_SIZE",
    "MsgId",
    "NetworkTarget",
    "ProcessTarget",
    "Received",
    "SilTimeout",
    "SimClient",
    "SimHungError",
    "SimProcess",
    "SimStartError",
    "SimTime",
    "Stats",
    "StepLink",
    "Target",
    "WIRE_VERSION",
    "catalogue_hash",
    "decode",
    "encode",
    "message_types",
    "unbundle",
    # Not the duration helpers ms, ns, s, us: a star import should not bring
    # one-letter names. They are sil.ms(), sil.s(), ... (and on every target).
]
