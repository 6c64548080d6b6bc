#!/usr/bin/env bash
# Benchmark of the typosquat name check (crate pyward-trust):
#   1. cold: read the embedded popularity snapshot (15,000 names), build the
#      name index and check one name, as a fresh `pyward check-names NAME`
#      does (best of 20, in-process);
#   2. warm: one check once the index exists (mean over a mixed list);
#   3. the false-positive study: every popular name checked against the
#      others, with the time per name.
# Needs Rust only.
#
# Usage: bench/check-names.sh
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-$PWD/target}

echo "== building (release)"
cargo build --release -q -p pyward-trust --example bench_check --example false_positives

echo "== check timing"
"$target/release/examples/bench_check"

echo "== false-positive study (popular names against each other)"
study=$(mktemp)
trap 'rm -f "$study"' EXIT
"$target/release/examples/false_positives" >"$study"
head -n 2 "$study"
