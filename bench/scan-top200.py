#!/usr/bin/env python3
"""Precision check of pyward's code scanner against the real world.

Downloads the latest wheel and sdist of the N most downloaded projects
(default 200, from ../shared/data/top-pypi-packages.json) using PyPI's JSON
API into a cache directory, scans every file with the `scan` example of the
pyward-scan crate, and summarizes the findings by severity and rule. Every
finding at or above `high` (what the install policy blocks) is printed in
full; lower findings are listed one line each, grouped by rule.

    python3 bench/scan-top200.py [--count 200] [--cache DIR] [--json-out FILE]

Exits 1 when any file has a Block-level (high or critical) finding.
Needs network access to PyPI for the first run; later runs reuse the cache.
Python 3 standard library only.
"""

import argparse
import collections
import concurrent.futures
import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TOP = ROOT.parent / "shared" / "data" / "top-pypi-packages.json"
DEFAULT_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "pyward-bench" / "top200"
BLOCK = {"high", "critical"}
SEVERITIES = ["critical", "high", "moderate", "low", "info"]


def fetch_json(url):
    req = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "pyward-bench"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.load(resp)


def wheel_rank(filename):
    """Prefer a pure wheel, then a recent CPython manylinux x86_64 one."""
    stem = filename[:-4]
    parts = stem.split("-")
    if len(parts) < 5:
        return (9, filename)
    py, abi, plat = parts[-3], parts[-2], parts[-1]
    if abi == "none" and plat == "any":
        return (0, filename)
    if "manylinux" in plat and "x86_64" in plat:
        # Newest CPython first: cp313 sorts before cp39 when negated numerically.
        digits = "".join(ch for ch in py.split(".")[0] if ch.isdigit())
        return (1, -int(digits or 0), filename)
    if "linux" in plat and "x86_64" in plat:
        return (2, filename)
    return (5, filename)


def choose_files(project):
    """(filename, url) of the latest release's chosen wheel and sdist."""
    api = f"https://pypi.org/pypi/{project}/json"
    data = fetch_json(api)
    files = [f for f in data.get("urls", []) if not f.get("yanked")]
    wheels = sorted((f for f in files if f["filename"].endswith(".whl")), key=lambda f: wheel_rank(f["filename"]))
    sdists = [f for f in files if f["packagetype"] == "sdist"]
    chosen = []
    # Some mirrors answer with URLs relative to the API page.
    if wheels:
        chosen.append((wheels[0]["filename"], urllib.parse.urljoin(api, wheels[0]["url"])))
    if sdists:
        chosen.append((sdists[0]["filename"], urllib.parse.urljoin(api, sdists[0]["url"])))
    return chosen


def download(cache, filename, url):
    target = cache / filename
    if target.exists() and target.stat().st_size > 0:
        return target
    tmp = target.with_suffix(target.suffix + ".part")
    req = urllib.request.Request(url, headers={"User-Agent": "pyward-bench"})
    with urllib.request.urlopen(req, timeout=300) as resp, open(tmp, "wb") as out:
        while True:
            chunk = resp.read(1 << 20)
            if not chunk:
                break
            out.write(chunk)
    tmp.rename(target)
    return target


def gather(projects, cache, jobs):
    cache.mkdir(parents=True, exist_ok=True)
    manifest_path = cache / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    missing = [p for p in projects if p not in manifest]

    def pick(project):
        try:
            return project, choose_files(project), None
        except Exception as e:  # network or JSON errors are reported, not fatal
            return project, [], str(e)

    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        for project, chosen, err in pool.map(pick, missing):
            if err:
                print(f"  could not read {project} from PyPI: {err}", file=sys.stderr)
                continue
            manifest[project] = chosen
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True))

    todo = [(fn, url) for p in projects for fn, url in manifest.get(p, [])]

    def get(item):
        try:
            return download(cache, *item), None
        except Exception as e:
            return None, f"{item[0]}: {e}"

    paths = []
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        for path, err in pool.map(get, todo):
            if err:
                print(f"  download failed: {err}", file=sys.stderr)
            else:
                paths.append(path)
    return paths


def scan(paths):
    cmd = ["cargo", "run", "--quiet", "--release", "-p", "pyward-scan", "--example", "scan", "--", "--json"]
    cmd += [str(p) for p in paths]
    r = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    if r.returncode not in (0, 1):
        sys.exit(f"scan failed with exit code {r.returncode}")
    return json.loads(r.stdout)


def rule_of(finding):
    for e in finding.get("evidence", []):
        if e.get("kind") == "signal" and e.get("name") == "rule":
            return e["value"]
    return "?"


def first_location(finding):
    for e in finding.get("evidence", []):
        if e.get("kind") == "location":
            return f"{e['file']}:{e['line']}  {e['snippet'][:90]}"
    return ""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=200)
    ap.add_argument("--top", type=Path, default=DEFAULT_TOP)
    ap.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    ap.add_argument("--jobs", type=int, default=8)
    ap.add_argument("--json-out", type=Path, help="write the scanner's raw JSON here")
    ap.add_argument("--download-only", action="store_true")
    args = ap.parse_args()

    rows = json.loads(args.top.read_text())["rows"]
    projects = [r["project"] for r in rows[: args.count]]
    print(f"Fetching the latest wheel and sdist of {len(projects)} projects into {args.cache}", file=sys.stderr)
    paths = gather(projects, args.cache, args.jobs)
    print(f"{len(paths)} files ready", file=sys.stderr)
    if args.download_only:
        return 0

    reports = scan(paths)
    if args.json_out:
        args.json_out.write_text(json.dumps(reports, indent=1))

    errors = [r for r in reports if r.get("error")]
    findings = [(r["file"], f) for r in reports for f in r.get("findings", [])]
    by_sev = collections.Counter(f["severity"] for _, f in findings)
    by_rule = collections.Counter((rule_of(f), f["severity"]) for _, f in findings)
    files = sum(r.get("files_scanned", 0) for r in reports)
    size = sum(r.get("bytes_scanned", 0) for r in reports)
    secs = sum(r.get("seconds", 0.0) for r in reports)

    print(f"\nScanned {len(reports)} archives ({files} files, {size / 1e6:.1f} MB of source) in {secs:.2f}s of scanner time")
    if errors:
        print(f"{len(errors)} archives could not be scanned:")
        for r in errors:
            print(f"  {r['file']}: {r['error']}")
    print("\nFindings by severity: " + ", ".join(f"{s} {by_sev.get(s, 0)}" for s in SEVERITIES))
    print("Findings by rule:")
    for (rule, sev), n in sorted(by_rule.items(), key=lambda kv: (SEVERITIES.index(kv[0][1]), kv[0][0])):
        print(f"  {rule:24} {sev:9} {n}")

    blocking = [(file, f) for file, f in findings if f["severity"] in BLOCK]
    print(f"\nBlock-level findings: {len(blocking)}")
    for file, f in blocking:
        print(f"  {file}: [{rule_of(f)}] {f['title']}")
        for e in f.get("evidence", []):
            if e.get("kind") == "location":
                print(f"      {e['file']}:{e['line']}  {e['snippet']}")

    print("\nLower findings:")
    grouped = collections.defaultdict(list)
    for file, f in findings:
        if f["severity"] not in BLOCK:
            grouped[(rule_of(f), f["severity"])].append((file, f))
    for (rule, sev), items in sorted(grouped.items(), key=lambda kv: (SEVERITIES.index(kv[0][1]), kv[0][0])):
        print(f"  {rule} ({sev}):")
        for file, f in items:
            print(f"    {file}: {f['title']}")
            loc = first_location(f)
            if loc:
                print(f"        {loc}")
    return 1 if blocking else 0


if __name__ == "__main__":
    sys.exit(main())
