#!/usr/bin/python3
"""sil's speed benchmarks. Run with Debian's /usr/bin/python3:

    PYTHONPATH=build-bench/python /usr/bin/python3 tests/bench/run.py --build build-bench [--quick] [--only GROUP]...

(`make bench` does exactly that after a Release build.) Runs every group in
GROUPS, prints one table and writes <build>/bench/results.json (a JSON list
of the entries below) and <build>/bench/details.json (whatever the groups
put in ctx.details: every block and run).

Adding a group: write tests/bench/bench_<group>.py and add "bench_<group>" to
GROUPS. No other file changes. A listed module that does not exist yet is
skipped with a note. The module provides

    GROUP = "<group>"                 # the name --only selects
    def run(ctx) -> list[dict]: ...   # the group's entries

where ctx has
    ctx.build    Path: the Release build directory (bin/, python/, ...)
    ctx.quick    bool: --quick, a short smoke run (seconds, not minutes)
    ctx.log(msg) print a progress line
    ctx.tmp      Path: a scratch directory, removed after the run
    ctx.details  dict: put anything worth keeping for later (raw samples) here,
                 under the group's name; it is written to details.json

and each entry is a dict (common.entry() builds one):
    "name"      str, unique over the whole run
    "value"     number (null when skipped)
    "unit"      str
    "baseline"  null, or {"name", "value", "unit"} measured in the same run
    "ratio"     float or null: value / baseline value (so a value is a rate,
                higher is better, unless its unit says otherwise), measured side by side
                (interleaved repetitions, median of at least 5; the median of
                the per-pair ratios, not the ratio of the medians)
    "bar"       optional, the goal: "ratio >= 5" is checked against the ratio,
                "< 5" or ">= 0" (an operator, then a number) against the value,
                anything else is shown but not checked
    "skipped"   optional, why there is no value

A group signals a failure by raising common.BenchError (or anything else):
the run reports it, goes on with the other groups, and exits with status 1.
Every loop in a group must be bounded (a fixed count or deadline; sockets with
receive timeouts). No timing here is asserted: the numbers are for people.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import operator
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Optional

sys.dont_write_bytecode = True  # the group modules are imported from the source tree: no __pycache__ there
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import REPO, SYSTEM_MODULE, BenchError  # noqa: E402

# The Python side of every benchmark (and of the harnesses they start) uses
# the benchmarked system's module.
os.environ.setdefault("SIL_MODULE", SYSTEM_MODULE)

# In the order they run (and appear in the table).
GROUPS = [
    "bench_bus",
    "bench_egress",
    "bench_batched_egress",
    "bench_ingest",
    "bench_rtt",
    "bench_zmq",
    "bench_memory",
    "bench_record",
    "bench_lockstep",
    "bench_fast",
    "bench_inproc",
]


class Context:
    def __init__(self, build: Path, quick: bool, tmp: Path) -> None:
        self.build = build
        self.quick = quick
        self.tmp = tmp
        self.details: dict = {}

    def log(self, msg: str) -> None:
        print(msg, flush=True)


def group_of(module_name: str) -> str:
    return module_name.removeprefix("bench_")


def summary(module) -> str:
    """The first sentence of a group module's docstring."""
    text = " ".join((module.__doc__ or "").split("\n\n")[0].split())
    return text.split(". ")[0].rstrip(".")


def fmt(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value != value:
            return "nan"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


OPERATORS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt, "==": operator.eq}


def bar_met(result: dict) -> str:
    """"yes"/"NO" when the bar is a checkable comparison, "" otherwise."""
    words = (result.get("bar") or "").split()
    subject = result.get("value")
    if words and words[0] == "ratio":
        subject, words = result.get("ratio"), words[1:]
    if len(words) != 2 or words[0] not in OPERATORS:
        return ""
    try:
        limit = float(words[1].replace(",", ""))
    except ValueError:
        return ""
    if subject is None:
        return "skipped"
    return "yes" if OPERATORS[words[0]](subject, limit) else "NO"


def print_table(results: list) -> None:
    rows = [("name", "value", "unit", "baseline", "baseline value", "ratio", "bar", "met")]
    for r in results:
        base = r.get("baseline") or {}
        ratio = r.get("ratio")
        rows.append((r["name"], fmt(r.get("value")), r.get("unit", ""), base.get("name", "-"), fmt(base.get("value")),
                     "-" if ratio is None else f"{ratio:.3f}", r.get("bar", ""), bar_met(r)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        print("  ".join(cell.ljust(w) if j in (0, 2, 3, 6, 7) else cell.rjust(w)
                        for j, (cell, w) in enumerate(zip(row, widths))).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    for r in results:
        if r.get("skipped"):
            print(f"{r['name']}: skipped: {r['skipped']}")


def load_groups(only: Optional[list]) -> tuple[list, list]:
    """(modules to run, notes about the ones left out)."""
    modules, notes = [], []
    for name in GROUPS:
        if only and group_of(name) not in only:
            continue
        if importlib.util.find_spec(name) is None:
            notes.append(f"{group_of(name)}: skipped (no tests/bench/{name}.py yet)")
            continue
        module = importlib.import_module(name)
        if getattr(module, "GROUP", None) != group_of(name) or not callable(getattr(module, "run", None)):
            raise BenchError(f"{name}.py must define GROUP = {group_of(name)!r} and run(ctx)")
        modules.append(module)
    return modules, notes


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", type=Path, default=REPO / "build-bench",
                        help="Release build directory with bin/ and python/ (default: build-bench)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and shorter runs (a smoke test)")
    parser.add_argument("--only", action="append", metavar="GROUP",
                        help=f"run only this group (repeatable): {', '.join(group_of(g) for g in GROUPS)}")
    args = parser.parse_args(argv)
    known = {group_of(g) for g in GROUPS}
    for name in args.only or ():
        if name not in known:
            parser.error(f"unknown group {name!r}; known: {', '.join(sorted(known))}")
    build = args.build.resolve()
    modules, notes = load_groups(args.only)

    try:
        load = os.getloadavg()
    except OSError:
        load = None
    print(f"sil benchmarks{' (quick)' if args.quick else ''}: build {build}, python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs, load average {load}")
    for note in notes:
        print(note)
    results, failures = [], []
    with tempfile.TemporaryDirectory(prefix="sil-bench-") as tmp:
        ctx = Context(build, args.quick, Path(tmp))
        ctx.details.update({"quick": args.quick, "load_average_before": load})
        for module in modules:
            print(f"\n== {module.GROUP}: {summary(module)}", flush=True)
            started = time.monotonic()
            try:
                results += module.run(ctx)
            except BlockingIOError:
                failures.append(f"{module.GROUP}: a receive timed out (no answer within the socket's timeout)")
            except Exception as error:  # one broken group must not hide the others' numbers
                if not isinstance(error, BenchError):
                    traceback.print_exc()
                failures.append(f"{module.GROUP}: {error}")
            ctx.details.setdefault("group_seconds", {})[module.GROUP] = round(time.monotonic() - started, 1)
            print(f"   ({module.GROUP}: {time.monotonic() - started:.1f} s)", flush=True)
        try:
            ctx.details["load_average_after"] = os.getloadavg()
        except OSError:
            pass

    print()
    print_table(results)
    out_dir = build / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out_dir / "details.json").write_text(json.dumps(ctx.details, indent=2, default=str) + "\n")
    print(f"\nwrote {out_dir / 'results.json'} (and details.json: every block and run)")
    print("Timings are medians of interleaved repetitions; other work on this machine moves them.")
    for failure in failures:
        print(f"bench: FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        sys.exit(1)
