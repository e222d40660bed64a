"""Batched egress (issue 5, item 3): UdpBridge with --egress batched against
a raw per-message sendmsg loop, both to one live receiver. The measuring is
done in C++ (batched_egress_bench.cpp); this module runs it and passes its
entries on."""

from __future__ import annotations

import json
import subprocess

GROUP = "batched_egress"


def run(ctx) -> list[dict]:
    binary = ctx.build / "bin" / "batched_egress_bench"
    args = [str(binary)] + (["--quick"] if ctx.quick else [])
    ctx.log(f"batched egress: {' '.join(args)}")
    done = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"batched_egress_bench failed ({done.returncode}):\n{done.stderr}")
    if done.stderr.strip():
        ctx.log(done.stderr.strip())
    return json.loads(done.stdout)
