#!/usr/bin/python3
"""The Python recording reader's speed. Run with Debian's /usr/bin/python3:

    /usr/bin/python3 tests/bench/record_py_bench.py --build build-bench [--records N] [--blocks B]

Writes a recording of the example system's traffic (per tick a
PlantTemperature and a HeaterCommand, a Heartbeat every 10th tick; at least
200,000 records) to a temporary file, then reads it in alternating blocks:

  record_py_read          sil.recording: every message's fields (sim time,
                          wall time, MsgId, direction, payload)
  record_py_read_decoded  the same plus m.value (the decoded message object)
  record_py_frames        the baseline: sil._core.RecordFrames alone (the
                          C++ framing and CRC through the binding, each
                          record handed to Python as bytes, not parsed),
                          records/s

and prints a JSON list of {"name", "value", "unit", "baseline", "ratio"}:
medians over the blocks, ratios of each block to the baseline block next to
it, then their median. No timing is asserted; the numbers are for people.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MIN_RECORDS = 200_000


def import_sil(build: Path | None):
    if build is not None:
        sys.path.insert(0, str(build / "python"))
    try:
        import sil.recording  # noqa: F401
        from sil import _core
    except ImportError as error:
        sys.exit(f"record_py_bench: cannot import sil.recording (build first, pass --build): {error}")
    return sil, _core


def write_recording(path: Path, records: int, sil, core) -> int:
    """A recording like sil-sim writes, made with the tests' writer
    (tests/python/recording_writer.py) but checksummed by the C++ CRC-32C:
    the writer's own is bitwise Python, written to check that one."""
    sys.path.insert(0, str(REPO / "tests" / "python"))
    import recording_writer as writer

    def frame(data: bytes) -> bytes:
        return writer.frame(data, crc=core.crc32c(data))

    parts = [writer.MAGIC, frame(writer.header_record(rate_hz=100, clock="fast", version="bench"))]
    written = 0
    tick = 0
    while written < records:
        t = tick * 10_000_000
        payloads = [(int(sil.PlantTemperature.ID), sil.PlantTemperature(temperature_c=20 + tick * 1e-3,
                                                                        heater_power_w=2000.0).to_bytes()),
                    (int(sil.HeaterCommand.ID), sil.HeaterCommand(power_w=2000.0).to_bytes())]
        if tick % 10 == 0:
            payloads.append((int(sil.Heartbeat.ID), sil.Heartbeat(sequence=tick // 10, tick=tick,
                                                                  sim_time_ns=t).to_bytes()))
        for msg_id, payload in payloads:
            parts.append(frame(writer.message_record(t, msg_id, payload, wall_ns=t // 1000)))
            written += 1
        tick += 1
    parts.append(frame(writer.footer_record(written, end_sim_time_ns=t)))
    path.write_bytes(b"".join(parts))
    return written


def read_fields(sil, path: Path) -> int:
    count = 0
    with sil.recording.open(path) as rec:
        for m in rec:
            m.sim_time_ns, m.wall_ns, m.msg_id, m.direction, m.payload
            count += 1
    return count


def read_decoded(sil, path: Path) -> int:
    count = 0
    with sil.recording.open(path) as rec:
        for m in rec:
            m.sim_time_ns, m.msg_id, m.value
            count += 1
    return count


def read_frames(core, path: Path) -> int:
    data = path.read_bytes()
    return sum(1 for _ in core.RecordFrames(data)) - 2  # without the header and the footer


def rate(function, *args) -> tuple[float, int]:
    start = time.perf_counter()
    count = function(*args)
    return count / (time.perf_counter() - start), count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", type=Path, default=None, help="build directory (default: sil from PYTHONPATH)")
    parser.add_argument("--records", type=int, default=MIN_RECORDS,
                        help=f"records in the generated file (at least {MIN_RECORDS:,})")
    parser.add_argument("--blocks", type=int, default=5, help="alternating blocks per measurement (at least 5)")
    args = parser.parse_args()
    if args.records < MIN_RECORDS or args.blocks < 5:
        parser.error(f"--records must be >= {MIN_RECORDS:,} and --blocks >= 5")
    sil, core = import_sil(args.build)
    warnings.simplefilter("error")  # the generated file is complete: any warning is a bug
    with tempfile.TemporaryDirectory(prefix="record-py-bench-") as tmp:
        path = Path(tmp) / "bench.silrec"
        records = write_recording(path, args.records, sil, core)
        samples: dict[str, list[float]] = {"frames": [], "read": [], "decoded": []}
        ratios: dict[str, list[float]] = {"read": [], "decoded": []}
        for _ in range(args.blocks):
            for name, function, target in (("frames", read_frames, core), ("read", read_fields, sil),
                                           ("decoded", read_decoded, sil)):
                value, count = rate(function, target, path)
                if count != records:
                    sys.exit(f"record_py_bench: {name} read {count} records, expected {records}")
                samples[name].append(value)
            ratios["read"].append(samples["read"][-1] / samples["frames"][-1])
            ratios["decoded"].append(samples["decoded"][-1] / samples["frames"][-1])
        size = path.stat().st_size
    baseline = {"name": "record_py_frames", "value": statistics.median(samples["frames"]), "unit": "records/s"}
    results = [
        {"name": "record_py_read", "value": statistics.median(samples["read"]), "unit": "records/s",
         "baseline": baseline, "ratio": statistics.median(ratios["read"])},
        {"name": "record_py_read_decoded", "value": statistics.median(samples["decoded"]), "unit": "records/s",
         "baseline": baseline, "ratio": statistics.median(ratios["decoded"])},
        {**baseline, "baseline": None, "ratio": None},
        {"name": "record_py_file_bytes_per_record", "value": size / records, "unit": "bytes", "baseline": None,
         "ratio": None},
    ]
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
