#!/usr/bin/python3
"""sil as a user gets it: installed into a prefix, and used from projects
that have no path into sil's source or build tree.

    out_of_tree.py --source SIL_SOURCE --build SIL_BUILD --work DIR [--jobs N]

1. installs sil (cmake --install SIL_BUILD --prefix DIR/prefix);
2. compile-fail cases (compile_fail/*.cpp), compiled against the installed
   headers as a user's project compiles them: each must fail with the
   message its `// expect:` line names (accepted.cpp must compile);
3. the thermal example, copied out of sil's tree, configured with
   find_package(sil) and CMAKE_PREFIX_PATH only: its simulator answers the
   wire contract (RevisionRequest 2000 -> a 67-byte RevisionResponse 2001
   echoing the request id; Heartbeat 2002 of 22 bytes; exit 0 on SIGTERM),
   and its scenarios pass on the process and inproc targets;
4. the HIL rig example, built from the same prefix: its scenarios pass over
   --sil-target=udp:// against the running rig;
5. docs/getting-started.md, step by step: every `guide: file` block is
   written and every `guide: run` block is run with bash, in an empty
   folder, with SIL_PREFIX set to the prefix of step 1 (the guide's install
   step is step 1 itself).

The environment is cleared of PYTHONPATH, SIL_SIM and SIL_MODULE first, so
nothing reaches into sil's build tree. Prints each step; exits 1 on the
first failure, with the command's output.
"""
import argparse
import os
import pathlib
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

PYTHON = "/usr/bin/python3"


def step(title: str) -> None:
    print(f"== {title}", flush=True)


def run(command, cwd, env, timeout=1200):
    print("$ " + (command if isinstance(command, str) else " ".join(map(str, command))), flush=True)
    result = subprocess.run(command, cwd=cwd, env=env, shell=isinstance(command, str), executable="/bin/bash"
                            if isinstance(command, str) else None, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=timeout)
    if result.returncode != 0:
        print(result.stdout)
        raise SystemExit(f"failed (exit status {result.returncode}): {command}")
    return result.stdout


def clean_env(prefix: pathlib.Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SIL_SIM", "SIL_MODULE")}
    env["PYTHONPATH"] = str(prefix / "lib/python3/dist-packages")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def compile_fail(source: pathlib.Path, prefix: pathlib.Path, env: dict) -> None:
    for case in sorted((source / "tests/framework/compile_fail").glob("*.cpp")):
        expect = re.search(r"^// expect: (.*)$", case.read_text(), re.M).group(1).strip()
        result = subprocess.run(["c++", "-std=c++20", "-fsyntax-only", f"-I{prefix}/include", str(case)], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
        if expect == "compiles":
            ok = result.returncode == 0
        else:
            ok = result.returncode != 0 and re.search(expect, result.stdout) is not None
        print(f"   {case.name}: {'as expected' if ok else 'NOT as expected'} ({expect})", flush=True)
        if not ok:
            print(result.stdout[-4000:])
            raise SystemExit(f"compile-fail case {case.name} did not behave as its expect line says")


def build_project(directory: pathlib.Path, prefix: pathlib.Path, env: dict, jobs: int) -> None:
    run(["cmake", "-S", directory, "-B", directory / "build", f"-DCMAKE_PREFIX_PATH={prefix}",
         f"-DPython_EXECUTABLE={PYTHON}"], directory, env)
    run(["cmake", "--build", directory / "build", f"-j{jobs}"], directory, env)


def launch(command, env) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    match = re.search(r'"port": (\d+)', line)
    if not match:
        process.kill()
        raise SystemExit(f"{command[0]} printed no ready line: {line!r} {process.stderr.read()}")
    return process, int(match.group(1))


def stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        raise SystemExit("the process did not stop within 10 s of SIGTERM")
    if process.returncode != 0:
        raise SystemExit(f"exit status {process.returncode} after SIGTERM: {stderr}")
    return stderr


def wire_contract(sim: pathlib.Path, env: dict) -> None:
    process, port = launch([str(sim), "--clock", "realtime"], env)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.sendto(b"\xd0\x07" + struct.pack("<I", 0x01020304), ("127.0.0.1", port))
            answers, heartbeats = [], []
            deadline = time.monotonic() + 5.0
            for _ in range(100_000):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (answers and heartbeats):
                    break
                if not select.select([sock], [], [], remaining)[0]:
                    break
                datagram = sock.recv(65536)
                if datagram[:2] == b"\xd1\x07":
                    answers.append(datagram)
                elif datagram[:2] == b"\xd2\x07":
                    heartbeats.append(datagram)
    finally:
        stopped = stop(process)
    if len(answers) != 1 or len(answers[0]) != 67 or answers[0][2:6] != struct.pack("<I", 0x01020304):
        raise SystemExit(f"RevisionRequest was not answered by one 67-byte RevisionResponse echoing it: {answers}")
    if not heartbeats or any(len(h) != 22 for h in heartbeats):
        raise SystemExit(f"no 22-byte Heartbeat arrived: {heartbeats}")
    if '"event": "stopped"' not in stopped.strip().splitlines()[-1]:
        raise SystemExit(f"the last stderr line is not the stopped line: {stopped!r}")
    print("   RevisionRequest answered (67 bytes, id echoed), Heartbeat 22 bytes, stopped line, exit 0")


GUIDE_BLOCK = re.compile(r"<!-- guide: (file (?P<path>\S+)|run|install) -->\s*\n```[a-z]*\n(?P<body>.*?)```", re.S)


def getting_started(source: pathlib.Path, work: pathlib.Path, prefix: pathlib.Path, env: dict) -> None:
    folder = work / "getting-started"
    folder.mkdir()
    guide_env = dict(env, SIL_PREFIX=str(prefix))
    guide_env.pop("PYTHONPATH")  # the guide's own export sets it
    script = ["set -euo pipefail"]
    blocks = 0
    for match in GUIDE_BLOCK.finditer((source / "docs/getting-started.md").read_text()):
        blocks += 1
        if match.group("path"):
            target = folder / match.group("path")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(match.group("body"))
        elif match.group(0).startswith("<!-- guide: run"):
            # Each run block starts from the folder the reader is in.
            script.append(f"cd {folder}\n{match.group('body')}")
    if blocks < 8:
        raise SystemExit(f"docs/getting-started.md has {blocks} guide blocks; the markers changed?")
    run("\n".join(script), folder, guide_env)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", type=pathlib.Path, required=True)
    parser.add_argument("--build", type=pathlib.Path, required=True)
    parser.add_argument("--work", type=pathlib.Path, required=True)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    source, work = args.source.resolve(), args.work.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    prefix = work / "prefix"
    env = clean_env(prefix)

    step("install sil into a prefix")
    run(["cmake", "--install", args.build, "--prefix", prefix], work, env)

    step("installed binaries load from the prefix alone")
    for binary in [prefix / "bin/sil-sim", *sorted((prefix / "lib/python3/dist-packages/sil").glob("_core*.so"))]:
        dynamic = run(["readelf", "-d", binary], work, env)
        for path in re.findall(r"R(?:UN)?PATH.*\[(.*)\]", dynamic):
            if str(args.build.resolve()) in path or str(source) in path:
                raise SystemExit(f"{binary} looks for libraries in sil's tree: {path}")
    run([prefix / "bin/sil-sim", "--help"], work, env)

    step("compile-fail cases against the installed headers")
    compile_fail(source, prefix, env)

    step("the thermal example, out of sil's tree")
    projects = work / "projects"
    shutil.copytree(source / "examples", projects, ignore=shutil.ignore_patterns("build", "__pycache__"))
    thermal = projects / "thermal"
    build_project(thermal, prefix, env, args.jobs)
    wire_contract(thermal / "build/thermal-sim", env)
    run([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "scenarios"], thermal, env)
    run([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "scenarios", "--sil-target=inproc"], thermal, env)

    step("the HIL rig example, from the same prefix, over udp://, and sil-top watching it")
    rig = projects / "hil_rig"
    build_project(rig, prefix, env, args.jobs)
    process, port = launch([str(rig / "build/hil-rig")], env)
    try:
        run([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "scenarios", f"--sil-target=udp://127.0.0.1:{port}"],
            rig, env)
        # The installed live view, from any directory, on the running rig.
        view = run([prefix / "bin/sil-top", f"udp://127.0.0.1:{port}", "--once", "--interval", "0.2"], work, env)
        if "PlantTemperature" not in view:
            raise SystemExit(f"the installed sil-top showed no PlantTemperature:\n{view}")
    finally:
        stop(process)

    step("docs/getting-started.md, step by step")
    getting_started(source, work, prefix, env)

    print("out_of_tree: all steps passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
