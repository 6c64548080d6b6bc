#!/usr/bin/env bash
# Throughput of pyward's code scanner, in MB/s of uncompressed Python source
# (the .py, .pth and script bytes the scanner reads), over a large real set:
# by default the wheels that bench/scan-top200.py downloads (the latest wheel
# of the 200 most downloaded projects on PyPI). Archives are read from disk
# and decompressed in memory as during an install; the page cache is warmed
# first so the disk is not what is measured.
#
#   bench/scan-speed.sh                 # top-200 wheels (downloaded if missing)
#   bench/scan-speed.sh FILE.whl ...    # any wheels, sdists or directories
#   RUNS=5 bench/scan-speed.sh
#
# Prints the median of RUNS runs, all cores and one thread: wall-clock MB/s,
# and MB per CPU-second (which other load on the machine does not skew).
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${PYWARD_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pyward-bench/top200}
runs=${RUNS:-3}

if [ $# -gt 0 ]; then
    files=("$@")
else
    if ! ls "$cache"/*.whl >/dev/null 2>&1; then
        python3 "$root/bench/scan-top200.py" --cache "$cache" --download-only
    fi
    files=("$cache"/*.whl)
fi

cd "$root"
cargo build --release -q -p pyward-scan --example scan
cat "${files[@]}" >/dev/null 2>&1 || true

run() {
    # The example's last line: "total: … X MB of code in Ts = Y MB/s".
    cargo run --release -q -p pyward-scan --example scan -- "$@" "${files[@]}" | tail -1 || true
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "scanner throughput over ${#files[@]} archives, $(nproc) cores, median of $runs runs"
for mode in parallel single; do
    results=()
    for _ in $(seq "$runs"); do
        if [ "$mode" = single ]; then
            line=$(RAYON_NUM_THREADS=1 run --sequential)
        else
            line=$(run)
        fi
        results+=("$line")
    done
    last=${results[${#results[@]}-1]}
    mbs=$(printf '%s\n' "${results[@]}" | sed -E 's/.*= ([0-9.]+) MB\/s.*/\1/' | median)
    per_cpu=$(printf '%s\n' "${results[@]}" | sed -E 's/.*= ([0-9.]+) MB per CPU-second.*/\1/' | median)
    size=$(echo "$last" | sed -E 's/.* ([0-9.]+) MB of code.*/\1/')
    printf '  %-8s %8s MB/s wall clock, %8s MB per CPU-second  (%s MB of Python and scripts)\n' \
        "$mode" "$mbs" "$per_cpu" "$size"
done
