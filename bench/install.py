#!/usr/bin/env python3
"""Time pyward, `uv pip install` and `pip install` on the same requirement set,
into fresh virtual environments, with a cold and a warm cache, in one run.

Prints the median of N runs per tool and mode, and the ratios pyward/uv and
pyward/pip (absolute times drift on shared machines; ratios are the figure).

    python3 bench/install.py [REQUIREMENTS] [--runs 3] [--tools pyward,uv,pip]

Needs network access to PyPI. uv is installed with pip into a scratch venv
under the work directory if it is not on PATH. Venv creation is not timed.
Neither pyward nor uv compiles bytecode by default; pip does, so pip is run
with --no-compile to compare the same work.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(cmd, env=None, quiet=True):
    r = subprocess.run(
        cmd,
        env=env,
        stdout=subprocess.PIPE if quiet else None,
        stderr=subprocess.PIPE if quiet else None,
        text=True,
    )
    if r.returncode != 0:
        sys.stderr.write(f"command failed ({r.returncode}): {' '.join(map(str, cmd))}\n")
        if quiet:
            sys.stderr.write((r.stdout or "")[-3000:] + (r.stderr or "")[-3000:])
        raise SystemExit(1)
    return r


def find_uv(work: Path) -> str:
    uv = shutil.which("uv")
    if uv:
        return uv
    venv = work / "uv-venv"
    if not (venv / "bin" / "uv").exists():
        run([sys.executable, "-m", "venv", str(venv)])
        run([str(venv / "bin" / "pip"), "install", "-q", "uv"])
    return str(venv / "bin" / "uv")


def fresh_venv(path: Path, with_pip: bool):
    if path.exists():
        shutil.rmtree(path)
    cmd = [sys.executable, "-m", "venv", str(path)]
    if not with_pip:
        cmd.append("--without-pip")
    run(cmd)


def timed(cmd, env):
    start = time.perf_counter()
    run(cmd, env=env)
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("requirements", nargs="?", default=str(ROOT.parent / "shared" / "bench" / "web-and-data.txt"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tools", default="pyward,uv,pip")
    ap.add_argument("--pyward", default=str(ROOT / "target" / "release" / "pyward"))
    args = ap.parse_args()
    tools = args.tools.split(",")
    req = str(Path(args.requirements).resolve())

    if "pyward" in tools and not Path(args.pyward).exists():
        run(["cargo", "build", "--release", "-p", "pyward"], quiet=False)

    work = Path(tempfile.mkdtemp(prefix="pyward-bench-"))
    uv = find_uv(work) if "uv" in tools else None
    results = {}
    base_env = dict(os.environ)
    base_env.pop("VIRTUAL_ENV", None)

    def command(tool, venv, cache):
        env = dict(base_env)
        if tool == "pyward":
            env["PYWARD_CACHE_DIR"] = str(cache)
            return [args.pyward, "install", "-q", "--python", str(venv), "-r", req], env
        if tool == "uv":
            env["UV_CACHE_DIR"] = str(cache)
            return [uv, "pip", "install", "-q", "--python", str(venv / "bin" / "python"), "-r", req], env
        env["PIP_CACHE_DIR"] = str(cache)
        return [str(venv / "bin" / "pip"), "install", "-q", "--no-compile",
                "--disable-pip-version-check", "-r", req], env

    for tool in tools:
        for mode in ("cold", "warm"):
            times = []
            warm_cache = work / f"cache-{tool}-warm"
            if mode == "warm":
                # Fill the cache once, untimed.
                venv = work / f"venv-{tool}-fill"
                fresh_venv(venv, with_pip=(tool == "pip"))
                cmd, env = command(tool, venv, warm_cache)
                run(cmd, env=env)
            for i in range(args.runs):
                venv = work / f"venv-{tool}-{mode}-{i}"
                fresh_venv(venv, with_pip=(tool == "pip"))
                cache = warm_cache if mode == "warm" else work / f"cache-{tool}-cold-{i}"
                cmd, env = command(tool, venv, cache)
                t = timed(cmd, env)
                times.append(t)
                shutil.rmtree(venv, ignore_errors=True)
                if mode == "cold":
                    shutil.rmtree(cache, ignore_errors=True)
            results[(tool, mode)] = statistics.median(times)
            print(f"{tool:7} {mode}: median {results[(tool, mode)]:.2f}s  runs {', '.join(f'{t:.2f}' for t in times)}", flush=True)

    print()
    for mode in ("cold", "warm"):
        if ("pyward", mode) in results:
            p = results[("pyward", mode)]
            parts = [f"{mode}: pyward {p:.2f}s"]
            for other in ("uv", "pip"):
                if (other, mode) in results:
                    parts.append(f"pyward/{other} = {p / results[(other, mode)]:.2f}x")
            print("  ".join(parts))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
