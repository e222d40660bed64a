#!/usr/bin/python3
"""Layers point one way: no layer includes a header of a layer above it.

    check_layering.py ROOT

The layers, bottom up, and what each may include (docs/design.md "Layers"):
ipc; services, bridge, protocol (each on ipc); record (on protocol);
harness (on bridge and protocol: a harness's end of the port);
core (on services, bridge, protocol); app (on core and record); the Python
bindings on everything. An include of sil/<layer>/... that the including
layer may not use fails the check, with file and line; so does any include
of an example's headers (examples/): the framework knows no system.
"""
import pathlib
import re
import sys

# Each layer's directory, and the sil/<x>/ include prefixes it may use.
ALLOWED = {
    "ipc": {"ipc"},
    "services": {"ipc", "services"},
    "bridge": {"ipc", "bridge"},
    "protocol": {"ipc", "protocol"},
    "record": {"ipc", "protocol", "record"},
    "harness": {"ipc", "bridge", "protocol", "harness"},
    "sil": {"ipc", "services", "bridge", "protocol", "core"},
    "app": {"ipc", "services", "bridge", "protocol", "core", "record", "app"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]sil/([a-z_]+)/')
ANY_INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]')
EXAMPLES = ("thermal/", "hil_rig/")


def violations(root: pathlib.Path):
    for layer, allowed in ALLOWED.items():
        for path in sorted((root / layer).rglob("*")):
            if path.suffix not in (".hpp", ".cpp", ".h"):
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                included = ANY_INCLUDE.match(line)
                if included and included.group(1).startswith(EXAMPLES):
                    yield f"{path.relative_to(root)}:{number}: the {layer} layer includes an example's header"
                match = INCLUDE.match(line)
                if match and match.group(1) not in allowed:
                    yield (f"{path.relative_to(root)}:{number}: the {layer} layer includes sil/{match.group(1)}/, "
                           f"a layer above it or beside it (it may use: {', '.join(sorted(allowed))})")


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    found = list(violations(root))
    for message in found:
        print(message)
    print(f"layering: {len(found)} violation(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
