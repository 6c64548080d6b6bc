#!/usr/bin/env bash
# Benchmark of the advisory database (crate pyward-audit):
#   1. `db update` from the PyPA advisory directory (2,661 YAML records);
#   2. `db update` from a full-size OSV PyPI export made here: the PyPA records
#      plus GHSA records aliasing them, extra GHSA records for popular packages
#      and 40,000 MAL (malware) records, ~52,000 records in one zip like all.zip;
#   3. `audit` of a 500-package lock against each store with a warm page cache,
#      timed in-process (open the store + audit, 20 runs) and as a whole process.
# Needs Rust and Python 3 (standard library only).
#
# Usage: bench/audit.sh            (PYWARD_SHARED_DATA overrides ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
shared=${PYWARD_SHARED_DATA:-$root/../shared/data}
pypa=$shared/pypa-advisory-database/vulns
work=${BENCH_DIR:-${TMPDIR:-/tmp}/pyward-audit-bench}
target=${CARGO_TARGET_DIR:-$root/target}

[ -d "$pypa" ] || { echo "missing $pypa (set PYWARD_SHARED_DATA)" >&2; exit 2; }
rm -rf "$work" && mkdir -p "$work"

echo "== building (release)"
cargo build --release -q -p pyward-audit --example audit-bench
bench=$target/release/examples/audit-bench

echo "== generating the 500-package lock and a full-size OSV export in $work"
python3 - "$shared" "$work" <<'PY'
import json, os, random, re, sys, zipfile

shared, work = sys.argv[1], sys.argv[2]
pypa = os.path.join(shared, "pypa-advisory-database", "vulns")
rng = random.Random(20241010)
top = [r["project"] for r in json.load(open(os.path.join(shared, "top-pypi-packages.json")))["rows"]]

vectors = [
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
    "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H",
    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
]
severities = ["LOW", "MODERATE", "HIGH", "CRITICAL"]

def ghsa_id():
    alphabet = "23456789cfghjmpqrvwx"
    return "GHSA-" + "-".join("".join(rng.choice(alphabet) for _ in range(4)) for _ in range(3))

def ghsa(id_, name, aliases, introduced, fixed):
    return {
        "id": id_, "modified": "2026-03-30T12:00:00Z", "published": "2024-01-01T00:00:00Z",
        "aliases": aliases,
        "summary": f"{name} allows attackers to do something bad via crafted input",
        "details": f"### Impact\n{name} before {fixed} mishandles input. " + "More words. " * 40,
        "severity": [{"type": "CVSS_V3" if v.startswith("CVSS:3") else "CVSS_V4", "score": v}
                     for v in [rng.choice(vectors)]],
        "affected": [{"package": {"ecosystem": "PyPI", "name": name, "purl": f"pkg:pypi/{name}"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": introduced}, {"fixed": fixed}]}],
                      "versions": [f"{introduced if introduced != '0' else '0.1'}", fixed + "rc1"]}],
        "references": [{"type": "ADVISORY", "url": f"https://github.com/advisories/{id_}"}] * 5,
        "database_specific": {"severity": rng.choice(severities), "cwe_ids": ["CWE-79"], "github_reviewed": True},
    }

malware = []
for i in range(40000):
    base = top[rng.randrange(len(top))]
    malware.append(f"{base}-{rng.choice(['dev', 'utils', 'py', 'sdk', 'x'])}{i}")

count = 0
written = set()
with zipfile.ZipFile(os.path.join(work, "all.zip"), "w", zipfile.ZIP_DEFLATED) as z:
    # The real PyPA records, and a GHSA record for each that names one.
    for package in sorted(os.listdir(pypa)):
        folder = os.path.join(pypa, package)
        if not os.path.isdir(folder):
            continue
        for file in sorted(os.listdir(folder)):
            text = open(os.path.join(folder, file), encoding="utf-8").read()
            z.writestr(file, text); count += 1
            m = re.search(r"GHSA-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}", text)
            ecosystem = text.find("type: ECOSYSTEM")
            fixed = re.search(r"fixed: ['\"]?([0-9][0-9A-Za-z.+-]*)", text[ecosystem:]) if ecosystem >= 0 else None
            if m and fixed and m.group(0) not in written:
                written.add(m.group(0))
                record = ghsa(m.group(0), package, [file[:-5]], "0", fixed.group(1))
                z.writestr(m.group(0) + ".json", json.dumps(record)); count += 1
    # More GHSA records for popular packages.
    for i in range(8000):
        name = top[rng.randrange(3000)]
        major = rng.randrange(0, 4)
        fixed = f"{major}.{rng.randrange(0, 30)}.{rng.randrange(0, 10)}"
        introduced = rng.choice(["0", f"{major}.0.0"])
        id_ = ghsa_id()
        z.writestr(id_ + ".json", json.dumps(ghsa(id_, name, [f"CVE-2025-{10000 + i}"], introduced, fixed))); count += 1
    # Known malware: typo-like names, all versions or a few listed ones.
    for i, name in enumerate(malware):
        record = {
            "id": f"MAL-2025-{i}", "modified": "2026-03-31T08:00:00Z",
            "summary": f"Malicious code in {name} (PyPI)",
            "details": "This package contains code that exfiltrates credentials.",
            "affected": [{"package": {"ecosystem": "PyPI", "name": name},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}],
            "database_specific": {"malicious-packages-origins": [{"source": "ossf", "id": f"pypi/{name}"}]},
        }
        z.writestr(f"MAL-2025-{i}.json", json.dumps(record)); count += 1
    z.writestr("MAL-2025-withdrawn.json", json.dumps({"id": "MAL-2025-w", "withdrawn": "2025-01-01T00:00:00Z", "affected": []})); count += 1
    z.writestr("BROKEN-1.json", "{ not json"); count += 1
print(f"all.zip: {count} records, {os.path.getsize(os.path.join(work, 'all.zip')) // 1024} KiB")

# 500 packages: the 495 most downloaded at assorted versions, and 5 malware names.
versions = ["0.1.0", "1.0.0", "1.26.0", "2.0.0", "2.25.0", "3.1.4", "10.0"]
lines = [f"{name}=={versions[i % len(versions)]}" for i, name in enumerate(top[:495])]
lines += [f"{name}==1.0" for name in malware[:5]]
open(os.path.join(work, "lock.txt"), "w").write("\n".join(lines) + "\n")
print(f"lock.txt: {len(lines)} packages")
PY

echo
echo "== PyPA advisory directory"
"$bench" "$work/lock.txt" "$work/db-pypa" --update-from "$pypa" --iterations 20

echo
echo "== full-size export (zip)"
"$bench" "$work/lock.txt" "$work/db-full" --update-from "$work/all.zip" --iterations 20

echo
echo "== one whole process, warm page cache (process start + open + audit)"
"$bench" "$work/lock.txt" "$work/db-full" --iterations 1 >/dev/null
start=$(date +%s%N)
"$bench" "$work/lock.txt" "$work/db-full" --iterations 1 >/dev/null
end=$(date +%s%N)
echo "whole process: $(( (end - start) / 1000000 )) ms"

echo
echo "== embedded snapshot"
"$bench" "$work/lock.txt" --iterations 20
