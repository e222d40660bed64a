"""In-process stepping: sil._core.InprocSim.advance(1) per call, against the
cheapest comparable call into the same object (ticks_for(0))."""

from __future__ import annotations

import statistics
import time
from typing import Callable

from common import entry, import_sil

GROUP = "inproc"
BAR_US = 5.0

def bench_inproc(core, calls: int, blocks: int, log) -> tuple[list, dict]:
    InprocSim = getattr(core, "InprocSim", None)
    if InprocSim is None:
        reason = "sil._core has no InprocSim in this build"
        log(f"  skipped: {reason}")
        return [entry("inproc_step", None, "us/call", skipped=reason)], {"skipped": reason}
    probe = InprocSim(100)
    step_name = next((n for n in ("advance", "step", "tick") if callable(getattr(probe, n, None))), None)
    if step_name is None:
        reason = f"InprocSim has no advance/step/tick method (has {[n for n in dir(probe) if not n.startswith('_')]})"
        log(f"  skipped: {reason}")
        return [entry("inproc_step", None, "us/call", skipped=reason)], {"skipped": reason}
    floor_name = "ticks_for" if callable(getattr(probe, "ticks_for", None)) else None
    del probe

    def time_calls(fn: Callable, arg) -> float:
        clock = time.perf_counter_ns
        start = clock()
        for _ in range(calls):
            fn(arg)
        return (clock() - start) / 1e3 / calls

    step_us, floor_us, pair_ratios = [], [], []
    for b in range(blocks):
        # A fresh sim per block: InprocSim records every publication, so one
        # sim stepped for the whole run would keep growing.
        sim = InprocSim(100)
        step = getattr(sim, step_name)
        for _ in range(1000):  # warm-up
            step(1)
        floor = getattr(sim, floor_name) if floor_name else None
        measured = {}
        for which in (("step", "floor") if b % 2 == 0 else ("floor", "step")):
            if which == "step":
                measured["step"] = time_calls(step, 1)
            elif floor is not None:
                measured["floor"] = time_calls(floor, 0)
        step_us.append(measured["step"])
        if "floor" in measured:
            floor_us.append(measured["floor"])
            pair_ratios.append(measured["step"] / measured["floor"])
        log(f"  block {b + 1}/{blocks}: {step_name}(1) {measured['step']:.3f} us/call"
            + (f"  {floor_name}(0) {measured['floor']:.3f} us/call" if "floor" in measured else ""))
        del sim
    base = ({"name": f"inproc_call_floor ({floor_name}(0))", "value": statistics.median(floor_us), "unit": "us/call"}
            if floor_us else None)
    results = [entry("inproc_step", statistics.median(step_us), "us/call", base,
                     statistics.median(pair_ratios) if pair_ratios else None, bar=f"< {BAR_US:g}")]
    return results, {"method": f"{step_name}(1)", "calls_per_block": calls, "blocks": blocks}



def run(ctx) -> list:
    calls, blocks = (20_000, 5) if ctx.quick else (100_000, 7)
    import_sil(ctx.build)
    import sil
    core = sil.system_module()

    ctx.log(f"{calls} calls per block, {blocks} blocks")
    results, details = bench_inproc(core, calls, blocks, ctx.log)
    ctx.details["inproc"] = details
    return results
