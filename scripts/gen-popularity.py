#!/usr/bin/env python3
"""Generate pyward-trust's embedded popularity snapshot.

Reads the "top PyPI packages" JSON (the most downloaded projects with their
30-day download counts) and writes crates/pyward-trust/data/popular.tsv:

    # last_update<TAB>YYYY-MM-DD
    name<TAB>downloads          (one line per project, most downloaded first)

Names are normalized (PEP 503). The line order is the popularity rank, so the
file stays readable and its diffs reviewable. Python 3 standard library only.

Usage:
    python3 scripts/gen-popularity.py [SOURCE.json] [OUTPUT.tsv]

Defaults: ../shared/data/top-pypi-packages.json (beside the repository) and
crates/pyward-trust/data/popular.tsv.
"""

import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO.parent / "shared" / "data" / "top-pypi-packages.json"
DEFAULT_OUTPUT = REPO / "crates" / "pyward-trust" / "data" / "popular.tsv"


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main() -> int:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE
    output = Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_OUTPUT
    data = json.loads(source.read_text(encoding="utf-8"))

    last_update = str(data["last_update"]).split()[0]
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", last_update):
        print(f"unexpected last_update: {data['last_update']!r}", file=sys.stderr)
        return 1

    downloads: dict[str, int] = {}
    for row in data["rows"]:
        name = normalize(str(row["project"]))
        count = int(row["download_count"])
        if not name or "\t" in name or "\n" in name or count < 0:
            print(f"skipping malformed row: {row!r}", file=sys.stderr)
            continue
        # Two spellings of one project: keep the larger count.
        downloads[name] = max(count, downloads.get(name, 0))

    # Most downloaded first; ties by name so the output is deterministic.
    ranked = sorted(downloads.items(), key=lambda item: (-item[1], item[0]))
    lines = [f"# last_update\t{last_update}\n"]
    lines += [f"{name}\t{count}\n" for name, count in ranked]
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("".join(lines), encoding="utf-8")
    print(f"wrote {len(ranked)} projects (snapshot of {last_update}) to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
