#!/usr/bin/python3
"""Checks the compiled send path of egress_probe with objdump.

    check_egress_asm.py path/to/egress_probe [--objdump objdump] [--show]

Disassembles the probe (objdump -d --no-show-raw-insn -C), starts at
sil_probe_egress (bus.publish of a RevisionResponse to a bus whose subscriber
is the UdpBridge) and follows every direct call and jump into other functions
of the binary, at any depth: whatever the optimiser inlined or not, this is
all code a publish can run. Then asserts, over all of it:
  - no call to operator new, malloc, calloc, realloc, memcpy or memmove (in
    any spelling: __memcpy_chk, __asan_memcpy, ...): nothing allocated, the
    payload never copied in user space;
  - no indirect call (no type-erased dispatch on the way);
  - exactly one call site of sendmsg.
One function is not followed: BridgeCore::queue, the batched egress mode
(--egress batched), which copies each message into its batch by design
(docs/wire-format.md "Egress modes") and is out of line so that the per-message path
checked here stays copy-free.
As a control, sil_probe_copying_send (which copies into a std::vector) must
fail the same check; if it passes, the check cannot see what it claims to.
Exit status 0 when both hold, 1 otherwise (with the offending calls).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

FUNCTION = re.compile(r"^([0-9a-f]+) <(.+)>:$")
# "call   1100 <sendmsg@plt>", "jmp    1250 <foo.cold>", "call   *0x2fe2(%rip)   # 3ff0 <sendmsg@GLIBC_2.2.5>"
BRANCH = re.compile(r"^\s*[0-9a-f]+:\s+(?:notrack\s+|bnd\s+)?(call|jmp)[a-z]*\s+(.*)$")
TARGET = re.compile(r"<(.+)>\s*$")
FORBIDDEN = re.compile(r"operator new|(^|[^a-z])(malloc|calloc|realloc|memcpy|memmove)([^a-z]|$)")
# AddressSanitizer moves instrumented functions' stack frames onto its own
# "fake stack" (use-after-return detection): locals, not heap, not our code.
SANITIZER_FRAMES = re.compile(r"^__asan_stack_malloc")
ROOT, CONTROL = "sil_probe_egress", "sil_probe_copying_send"
# The batched mode's copy (see the docstring): its calls are not followed.
BATCHED_PATH = re.compile(r"^sil::bridge::BridgeCore::queue\(")


def disassemble(binary: str, objdump: str) -> dict:
    """{function name: [(kind, operand text), ...] for every call/jmp}."""
    listing = subprocess.run([objdump, "-d", "--no-show-raw-insn", "-C", binary], check=True, capture_output=True,
                             text=True, timeout=300).stdout
    functions: dict = {}
    current = None
    for line in listing.splitlines():
        match = FUNCTION.match(line)
        if match:
            current = functions.setdefault(match.group(2), [])
            continue
        match = BRANCH.match(line)
        if match and current is not None:
            current.append((match.group(1), match.group(2)))
    return functions


def symbol(operand: str) -> tuple:
    """(name, is_function_start) of a branch target, or (None, False) for
    an indirect target without a symbol."""
    match = TARGET.search(operand)
    if not match:
        return None, False
    name = match.group(1)
    base, plus, offset = name.rpartition("+0x")
    if plus and re.fullmatch(r"[0-9a-f]+", offset):
        return base, False
    return name, True


def reachable_calls(functions: dict, root: str) -> tuple:
    """(functions visited, external calls [(from, name)], indirect calls [(from, operand)])."""
    visited, external, indirect = [], [], []
    pending = [root]
    while pending:
        name = pending.pop()
        if name in visited:
            continue
        visited.append(name)
        for kind, operand in functions[name]:
            target, at_start = symbol(operand)
            is_indirect = operand.lstrip().startswith("*")
            if target is None or (is_indirect and "@" not in target):
                if kind == "call" and is_indirect:
                    indirect.append((name, operand.strip()))
                continue
            if "@" in target or target not in functions:
                external.append((name, target.split("@")[0]))
            elif at_start and target != name and not BATCHED_PATH.match(target):
                pending.append(target)
    return visited, external, indirect


def violations(functions: dict, root: str) -> tuple:
    if root not in functions:
        return [f"no function {root} in the disassembly"], []
    visited, external, indirect = reachable_calls(functions, root)
    problems = [f"{caller} calls {callee}" for caller, callee in external
                if FORBIDDEN.search(callee) and not SANITIZER_FRAMES.match(callee)]
    problems += [f"{caller} makes an indirect call: {operand}" for caller, operand in indirect]
    sends = [caller for caller, callee in external if callee == "sendmsg"]
    if len(sends) != 1:
        problems.append(f"{len(sends)} call sites of sendmsg, not 1 (in {sends})")
    return problems, visited


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary")
    parser.add_argument("--objdump", default="objdump")
    parser.add_argument("--show", action="store_true", help="list the functions the check visited")
    args = parser.parse_args()
    functions = disassemble(args.binary, args.objdump)

    problems, visited = violations(functions, ROOT)
    if args.show:
        print(f"{ROOT} reaches {len(visited)} function(s):\n  " + "\n  ".join(visited))
    control_problems, _ = violations(functions, CONTROL)
    ok = True
    if problems:
        ok = False
        print(f"FAIL: the egress path ({ROOT}):\n  " + "\n  ".join(problems))
    else:
        print(f"ok: {ROOT}: {len(visited)} function(s), no allocation, no memcpy, no indirect call, one sendmsg")
    if not any("calls" in p for p in control_problems) or CONTROL not in functions:
        ok = False
        print(f"FAIL: the control {CONTROL} passed the check, so the check cannot see copies or allocations "
              f"(found: {control_problems})")
    else:
        print(f"ok: the control {CONTROL} is rejected: {'; '.join(control_problems)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
