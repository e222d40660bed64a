"""What every benchmark group shares: finding the build, starting a program
that prints a ready line, bounded UDP sockets, percentiles, result entries.
Imported by run.py and the bench_<group>.py modules (see run.py for the
interface a group implements)."""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[2]
RECV_TIMEOUT_S = 2.0
CONTROL_REQUEST = b"\xf0\xff"  # MsgId 0xFFF0, u16 LE
CONTROL_REPLY_LO, CONTROL_REPLY_HI = 0xF1, 0xFF  # MsgId 0xFFF1
BUNDLE_LO, BUNDLE_HI = 0xF2, 0xFF  # MsgId 0xFFF2 (docs/wire-format.md "Bundles")
REVISION_REQUEST = b"\xd0\x07" + struct.pack("<I", 1)  # MsgId 2000 + request_id


class BenchError(RuntimeError):
    pass


# -- setup -------------------------------------------------------------------


def import_sil(build: Path):
    python_dir = build / "python"
    if str(python_dir) not in sys.path:
        sys.path.insert(0, str(python_dir))
    try:
        import sil  # noqa: F401
    except ImportError as error:
        raise BenchError(f"cannot import sil from {python_dir} (build first; PYTHONPATH={python_dir}): {error}")
    return sil


def import_control_pb2(tmp: Path):
    """sil.sil_control_pb2 from the build, else generated here with protoc."""
    try:
        from sil import sil_control_pb2

        return sil_control_pb2, "sil.sil_control_pb2 (build)"
    except ImportError:
        pass
    proto_dir = REPO / "sil" / "proto"
    out = tmp / "pb2"
    out.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(["protoc", f"--python_out={out}", "-I", str(proto_dir), "sil_control.proto"],
                       check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as error:
        raise BenchError(f"no sil.sil_control_pb2 in the build and protoc failed: {error}")
    sys.path.insert(0, str(out))
    import sil_control_pb2

    return sil_control_pb2, f"protoc --python_out={out} (generated at run time)"


class Process:
    """A program that prints a JSON ready line with "port" on stdout.
    sil.launcher.SimProcess when the package has it, else a minimal
    equivalent (read the ready line within a deadline; SIGTERM to stop)."""

    def __init__(self, path: Path, args: list[str], ready_timeout: float = 10.0) -> None:
        try:
            from sil.launcher import SimProcess
        except ImportError:
            SimProcess = None
        self._sim = None
        if SimProcess is not None:
            self._sim = SimProcess(path, args, ready_timeout=ready_timeout)
            self.port, self.pid = self._sim.port, self._sim.pid
            return
        self._stderr = tempfile.TemporaryFile()
        self._proc = subprocess.Popen([str(path), *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=self._stderr)
        self.pid = self._proc.pid
        import selectors

        deadline = time.monotonic() + ready_timeout
        buffer = b""
        with selectors.DefaultSelector() as selector:
            selector.register(self._proc.stdout, selectors.EVENT_READ)
            while b"\n" not in buffer:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or len(buffer) > 65536:
                    self.stop()
                    raise BenchError(f"{path} printed no ready line within {ready_timeout} s")
                if selector.select(remaining):
                    chunk = os.read(self._proc.stdout.fileno(), 4096)
                    if not chunk:
                        self.stop()
                        raise BenchError(f"{path} exited before it was ready: {self.stderr_text()}")
                    buffer += chunk
        self.port = json.loads(buffer.split(b"\n", 1)[0])["port"]

    def stop(self, timeout: float = 5.0) -> int:
        if self._sim is not None:
            return self._sim.stop(timeout)
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout)
        return self._proc.returncode

    def stderr_text(self) -> str:
        if self._sim is not None:
            return self._sim.stderr_text()
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def stopped_report(self) -> Optional[dict]:
        for line in reversed(self.stderr_text().splitlines()):
            if line.startswith("{") and '"stopped"' in line:
                try:
                    return json.loads(line)
                except ValueError:
                    return None
        return None

    def __enter__(self) -> "Process":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def udp_socket(port: int) -> socket.socket:
    """Connected to 127.0.0.1:port, blocking, with a kernel receive timeout
    (SO_RCVTIMEO) rather than Python's settimeout(): a Python timeout adds a
    poll() before every recv, this adds nothing per call and still bounds
    every wait (a timeout raises BlockingIOError)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.connect(("127.0.0.1", port))
    seconds = int(RECV_TIMEOUT_S)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO,
                    struct.pack("ll", seconds, int((RECV_TIMEOUT_S - seconds) * 1e6)))
    return sock


def percentile(sorted_values: list, q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def pin_processes(pids: list, cpus: set) -> None:
    """Every thread of each pid onto cpus."""
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                os.sched_setaffinity(int(task.name), cpus)
            except (OSError, ValueError):
                pass




def udp_rcvbuf_errors() -> Optional[int]:
    """System-wide UDP RcvbufErrors (datagrams the kernel dropped because a
    receiver's buffer was full); other processes' drops count too."""
    try:
        lines = [line.split() for line in Path("/proc/net/snmp").read_text().splitlines() if line.startswith("Udp:")]
        return int(lines[1][lines[0].index("RcvbufErrors")])
    except (OSError, ValueError, IndexError):
        return None



def entry(name: str, value, unit: str, baseline: Optional[dict] = None, ratio: Optional[float] = None,
          bar: Optional[str] = None, skipped: Optional[str] = None) -> dict:
    """One result row (the format run.py documents)."""
    result = {"name": name, "value": value, "unit": unit, "baseline": baseline, "ratio": ratio}
    if bar is not None:
        result["bar"] = bar
    if skipped is not None:
        result["skipped"] = skipped
    return result


def baseline(name: str, value, unit: str) -> dict:
    return {"name": name, "value": value, "unit": unit}


# The system every benchmark runs: the thermal example (a plant publishing
# every tick, a controller and a monitor reacting to it), the same workload
# the figures in docs/performance.md were measured with before systems
# became the user's. Its simulator and its Python module.
SIM = "thermal-sim"
SYSTEM_MODULE = "thermal_sil"


def program(build: Path, name: str) -> Path:
    """<build>/bin/<name>, or BenchError when it was not built."""
    path = build / "bin" / name
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise BenchError(f"no {name} at {path}; build first (make bench)")
    return path


def google_benchmark(binary: Path, repetitions: int, min_time_s: float, timeout_s: float = 120.0) -> dict:
    """Runs a Google Benchmark program with its benchmarks' repetitions
    randomly interleaved; returns {benchmark name: [one dict per repetition,
    in repetition order]} with "cpu_ns" (the benchmark thread's CPU time per
    iteration: steadier than wall time on a shared machine) and "real_ns",
    plus the user counters."""
    command = [str(binary), "--benchmark_format=json", f"--benchmark_repetitions={repetitions}",
               "--benchmark_enable_random_interleaving=true", f"--benchmark_min_time={min_time_s}"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{binary.name} did not finish within {timeout_s} s")
    if done.returncode != 0:
        raise BenchError(f"{binary.name} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    runs: dict = {}
    for run in json.loads(done.stdout)["benchmarks"]:
        if run.get("run_type") != "iteration":
            continue
        if run.get("error_occurred"):
            raise BenchError(f"{binary.name} {run['name']}: {run.get('error_message')}")
        scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[run.get("time_unit", "ns")]
        sample = {key: value for key, value in run.items() if isinstance(value, (int, float))}
        sample.update(cpu_ns=run["cpu_time"] * scale, real_ns=run["real_time"] * scale)
        runs.setdefault(run.get("run_name", run["name"]), []).append(sample)
    for samples in runs.values():
        samples.sort(key=lambda sample: sample.get("repetition_index", 0))
    return runs


def paired_ratio(numerators: list, denominators: list) -> float:
    """Median over repetitions of numerator_i / denominator_i."""
    return statistics.median(n / d for n, d in zip(numerators, denominators))


def google_benchmark_group(ctx, name: str, min_time_s: float, quick_min_time_s: float) -> dict:
    """google_benchmark() on <build>/bin/<name> with the run's repetitions
    (7, or 5 with --quick), its samples kept in ctx.details[name]."""
    runs = google_benchmark(program(ctx.build, name), 5 if ctx.quick else 7,
                            quick_min_time_s if ctx.quick else min_time_s)
    ctx.details[name] = runs
    return runs
