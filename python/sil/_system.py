"""Which compiled system module the sil package drives.

A system (its messages and services) is compiled into an extension module
with one API: the message classes, MsgId, catalogue_info, catalogue_hash,
encode/decode, InprocSim, Receiver, StepLinkCore, RecordReader, ... The
framework's own is ``sil._core``; a user's system has its own, e.g.
``thermal_sil``. Everything in the sil package reaches the compiled code
through ``system_module()``, so the pure-Python package works with
whichever module is selected.

Selecting: ``sil.use_system("thermal_sil")`` (or a module object), the
environment variable ``SIL_MODULE``, or the pytest plugin's
``--sil-module``/``sil_module``; with none of them, ``sil._core``.

When: only before first use. The first ``system_module()`` call (the first
message class taken from ``sil``, the first target, decoder or link made)
fixes the module for the life of the process, because what was made from it
(message classes handed out, decoders, a StepLink class derived from its
StepLinkCore) would silently mix two catalogues if it changed later.
Selecting another module after that raises SystemInUseError; selecting
the one in use again is allowed and does nothing. Importing ``sil`` uses
nothing, so a pytest plugin or a conftest can still select.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Optional, Union

ENV_VAR = "SIL_MODULE"
DEFAULT_MODULE = "sil._core"
# What the pure-Python package calls on a system module; a module without
# all of them was not made by sil's system build.
REQUIRED_API = (
    "BUNDLE_ID", "DecodeError", "InprocSim", "MAX_BUNDLE_BYTES", "MsgId", "RECORD_MAGIC", "Receiver",
    "RecordReader", "RxBudget", "StepLinkCore", "build_info", "catalogue_hash", "catalogue_info", "decode",
    "encode", "message_types", "recover_recording", "unbundle",
)


class SystemModuleError(ImportError):
    """The module named as the system cannot be used: it does not import,
    or it lacks the compiled API sil drives."""


class SystemInUseError(RuntimeError):
    """Another system module was selected after the first one was in use."""


_selected: Optional[ModuleType] = None  # chosen by use_system(), not yet in use
_in_use: Optional[ModuleType] = None


def use_system(name_or_module: Union[str, ModuleType]) -> ModuleType:
    """Selects the compiled system module (imported by name, e.g.
    "thermal_sil", or given as a module) and returns it. Raises
    SystemModuleError for a module that does not import or lacks sil's
    API, SystemInUseError once another module is in use (see the module
    doc)."""
    global _selected
    if isinstance(name_or_module, ModuleType):
        module = _checked(name_or_module, f"the module {name_or_module.__name__!r}")
    elif isinstance(name_or_module, str) and name_or_module:
        module = _imported(name_or_module, "use_system()")
    else:
        raise TypeError(f"use_system() takes a module name or a module, got {name_or_module!r}")
    if _in_use is not None and module is not _in_use:
        raise SystemInUseError(
            f"the system module {_in_use.__name__!r} is already in use (message classes, targets or decoders "
            f"were made from it), so {module.__name__!r} cannot replace it; select the system before first use: "
            f"sil.use_system(), {ENV_VAR}, or pytest's --sil-module / sil_module")
    _selected = module
    return module


def system_module() -> ModuleType:
    """The compiled system module in use; the first call fixes it."""
    global _in_use
    if _in_use is None:
        if _selected is not None:
            _in_use = _selected
        else:
            name = os.environ.get(ENV_VAR)
            _in_use = _imported(name, f"${ENV_VAR}") if name else _imported(DEFAULT_MODULE, "the default")
    return _in_use


def _imported(name: str, source: str) -> ModuleType:
    importlib.import_module("sil._protos")  # before the system module: see sil/_protos.py
    try:
        module = importlib.import_module(name)
    except ImportError as error:
        raise SystemModuleError(f"cannot import the system module {name!r} (named by {source}): {error}. "
                                "Is its build directory on PYTHONPATH?") from error
    return _checked(module, f"the system module {name!r} (named by {source})")


def _checked(module: ModuleType, what: str) -> ModuleType:
    missing = [name for name in REQUIRED_API if not hasattr(module, name)]
    if missing:
        raise SystemModuleError(f"{what} is not a sil system module: it lacks {', '.join(missing)} "
                                f"(a system module has the API of {DEFAULT_MODULE})")
    return module
