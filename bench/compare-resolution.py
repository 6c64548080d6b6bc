#!/usr/bin/env python3
"""Compare pyward's resolution with `uv pip compile` for the same Python.

    python3 bench/compare-resolution.py [SET.txt ...]   (default: bench/resolve-sets/*.txt)

For each requirement set: pyward resolves it with `install --dry-run --json`
into a fresh, empty venv; uv compiles it for that venv's interpreter. Prints
the packages whose pinned versions differ (or that only one tool chose).
Needs network access to PyPI; uv is installed into a scratch venv when it is
not on PATH.
"""

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def norm(name):
    import re
    return re.sub(r"[-_.]+", "-", name).lower()


def main():
    sets = [Path(a) for a in sys.argv[1:]] or sorted((ROOT / "bench" / "resolve-sets").glob("*.txt"))
    pyward = ROOT / "target" / "release" / "pyward"
    if not pyward.exists():
        subprocess.run(["cargo", "build", "--release", "-p", "pyward"], check=True)
    work = Path(tempfile.mkdtemp(prefix="pyward-compare-"))
    uv = shutil.which("uv")
    if not uv:
        subprocess.run([sys.executable, "-m", "venv", str(work / "uv")], check=True)
        subprocess.run([str(work / "uv/bin/pip"), "install", "-q", "uv"], check=True)
        uv = str(work / "uv/bin/uv")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    same = 0
    for s in sets:
        out = subprocess.run(
            [str(pyward), "install", "--dry-run", "--json", "--python", str(venv), "-r", str(s)],
            capture_output=True, text=True,
        )
        if out.returncode != 0:
            print(f"{s.name}: pyward failed ({out.returncode})\n{out.stdout[-2000:]}{out.stderr[-2000:]}")
            continue
        ours = {norm(p["name"]): p["version"] for p in json.loads(out.stdout)["resolved"]}
        u = subprocess.run(
            [uv, "pip", "compile", "-q", "--no-header", "--no-annotate", "--python", str(venv / "bin/python"), str(s)],
            capture_output=True, text=True,
        )
        if u.returncode != 0:
            print(f"{s.name}: uv failed\n{u.stderr[-2000:]}")
            continue
        theirs = {}
        for line in u.stdout.splitlines():
            line = line.split("#")[0].strip()
            if "==" in line:
                n, v = line.split("==", 1)
                theirs[norm(n.split("[")[0])] = v.split(";")[0].strip()
        diff = sorted(set(ours) | set(theirs))
        diff = [n for n in diff if ours.get(n) != theirs.get(n)]
        if not diff:
            same += 1
            print(f"{s.name}: identical ({len(ours)} packages)")
        else:
            print(f"{s.name}: {len(diff)} differences of {len(set(ours) | set(theirs))} packages")
            for n in diff:
                print(f"    {n:30} pyward {ours.get(n, '-'):15} uv {theirs.get(n, '-')}")
    print(f"\n{same}/{len(sets)} sets identical")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
