"""Drive a sil simulation from Python: message classes, the wire format,
targets (the simulation in this process, a launched sil-sim, or one already
running) with one verb set on simulated time, a UDP client, a process
launcher and a pytest plugin (fixtures ``sil``, ``sim``, ``sil_client``,
``sil_client_factory``).

The message classes, MsgId, encode/decode and the rest of the compiled API
come from the system module in use (``sil._core`` unless another is
selected: ``sil.use_system()``, ``$SIL_MODULE``, pytest's ``--sil-module``;
see sil._system). There is no list of them here: ``sil.SetPoint`` is looked
up in that module when first asked for, so a message added in C++ appears
here after a rebuild, and importing sil fixes no module yet.
"""

import importlib
import importlib.util
from typing import TYPE_CHECKING

from sil._system import SystemInUseError, SystemModuleError, system_module, use_system
from sil.catalogue import Catalogue, CatalogueError, CatalogueMismatchError, CounterInfo, Decoder, ParamInfo
from sil.client import SilTimeout, SimClient
from sil.control import ControlError
from sil.faults import Fault, FaultError, FaultInfo
from sil.params import ParamError, Params, ParamState
from sil.launcher import SimProcess, SimStartError
from sil.simtime import SimTime, ms, ns, s, us
from sil.targets import (
    CatalogueMismatchWarning,
    InprocTarget,
    NetworkTarget,
    ProcessTarget,
    Received,
    SimAttachError,
    SimHungError,
    Stats,
    Target,
)

if TYPE_CHECKING:  # never at run time; for type checkers, the framework's module stands for any system's
    from sil._core import *  # noqa: F401,F403
    from sil.step import StepLink

# Names defined in Python but made at first use, by the module that makes them.
_MADE_AT_FIRST_USE = {"StepLink": "sil.step"}
# The compiled API a star import brings, besides the message classes.
_SYSTEM_EXPORTS = ("BUNDLE_ID", "DecodeError", "HEADER_SIZE", "MAX_DATAGRAM_SIZE", "MsgId", "WIRE_VERSION",
                   "catalogue_hash", "decode", "encode", "message_types", "unbundle")
_PYTHON_EXPORTS = (
    "Catalogue",
    "CatalogueError",
    "CatalogueMismatchError",
    "CatalogueMismatchWarning",
    "ControlError",
    "Decoder",
    "InprocTarget",
    "NetworkTarget",
    "ProcessTarget",
    "Received",
    "SilTimeout",
    "SimClient",
    "SimAttachError",
    "SimHungError",
    "SimProcess",
    "SimStartError",
    "SimTime",
    "Stats",
    "StepLink",
    "SystemInUseError",
    "SystemModuleError",
    "Target",
    "system_module",
    "use_system",
    # Not the duration helpers ms, ns, s, us: a star import should not bring
    # one-letter names. They are sil.ms(), sil.s(), ... (and on every target).
)


def __getattr__(name: str):
    if name == "__all__":
        # A star import is a use: it fixes the system module.
        return sorted({*(cls.__name__ for cls in system_module().message_types()), *_SYSTEM_EXPORTS,
                       *_PYTHON_EXPORTS})
    if name == "_core":
        # The framework's own module, whichever system is in use.
        return importlib.import_module("sil._core")
    if name.startswith("_") or importlib.util.find_spec(f"sil.{name}") is not None:
        # A submodule not imported yet: `from sil import recording` asks here
        # first and imports it on AttributeError, touching no system module.
        raise AttributeError(f"module 'sil' has no attribute {name!r}")
    if name in _MADE_AT_FIRST_USE:
        value = getattr(importlib.import_module(_MADE_AT_FIRST_USE[name]), name)
    else:
        try:
            value = getattr(system_module(), name)
        except AttributeError:
            raise AttributeError(f"module 'sil' has no attribute {name!r} (nor has the system module "
                                 f"{system_module().__name__!r})") from None
    # The module in use cannot change any more (sil._system), so neither can this.
    globals()[name] = value
    return value


def __dir__() -> list:
    names = set(globals()) | set(_MADE_AT_FIRST_USE)
    names.update(name for name in dir(system_module()) if not name.startswith("_"))
    return sorted(names)
