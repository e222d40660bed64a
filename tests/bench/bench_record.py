"""Recording speed and size (issue 4): the C++ side in record_bench.cpp (the
simulation thread's cost per recorded message next to the same publish loop
without a recorder, drops at 100,000 messages/s, bytes per message, the
reader's rate next to the bare frame reader) and the Python reader in
record_py_bench.py. This module runs both and states the bars."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

GROUP = "record"

# Bars from the issue, keyed by entry name, in run.py's checked form.
BARS = {
    "record_sim_thread_cost": "< 100",
    "record_dropped": "<= 0",
    "record_reader_rate": ">= 1000000",
}


def _json_entries(args: list, what: str, timeout: float) -> list:
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout)


def run(ctx) -> list[dict]:
    cpp = [str(ctx.build / "bin" / "record_bench"), "--dir", str(ctx.tmp)] + (["--quick"] if ctx.quick else [])
    ctx.log(f"record: {' '.join(cpp)}")
    entries = _json_entries(cpp, "record_bench", timeout=120)
    py = [sys.executable, str(Path(__file__).resolve().parent / "record_py_bench.py"), "--build", str(ctx.build)]
    ctx.log("record: the Python reader")
    entries += _json_entries(py, "record_py_bench", timeout=300)
    for item in entries:
        if item["name"] in BARS:
            item["bar"] = BARS[item["name"]]
    return entries
