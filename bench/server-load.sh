#!/usr/bin/env bash
# Load test of the report server on 127.0.0.1 with SQLite: for SECONDS
# (default 60), SUBMITTERS tasks submit reports while READERS tasks read the
# flag feed. Then the database is checked: every acknowledged report is
# stored exactly once, nothing else is stored. Prints throughput and
# latency (p50/p99) and exits non-zero on any lost or duplicated report.
#
#   bench/server-load.sh [SECONDS] [SUBMITTERS] [READERS]
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_TO_RUN=${1:-60}
SUBMITTERS=${2:-8}
READERS=${3:-8}
FLAGS=50

cargo build --release --quiet -p pyward-server --example serve --example load
BIN=target/release/examples
WORK=$(mktemp -d)
DATA=$WORK/data
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT

REPORTER=$("$BIN/serve" token --data "$DATA" --role reporter --label load-reporter)
MODERATOR=$("$BIN/serve" token --data "$DATA" --role moderator --label load-moderator)

# No rate limit for the load test (the limiter itself still runs).
"$BIN/serve" run --data "$DATA" --listen "127.0.0.1:$PORT" \
    --reports-per-minute 1000000000 --burst 1000000000 2>"$WORK/server.log" &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT

python3 - "$URL" "$MODERATOR" "$FLAGS" <<'PY'
import json, sys, time, urllib.request
url, token, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for _ in range(100):
    try:
        urllib.request.urlopen(url + "/healthz", timeout=2)
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("the server did not start")
# A realistic feed: flags for FLAGS packages.
for i in range(n):
    body = json.dumps({"name": f"flagged-{i}", "versions": "<2", "reason": f"confirmed malware sample {i}"}).encode()
    req = urllib.request.Request(url + "/api/v1/flags", data=body, method="POST",
        headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=5)
PY

echo "load: ${SECONDS_TO_RUN}s, $SUBMITTERS submitters, $READERS feed readers, $FLAGS flags in the feed, SQLite, $(nproc) cores" >&2
"$BIN/load" --url "$URL" --token "$REPORTER" --seconds "$SECONDS_TO_RUN" \
    --submitters "$SUBMITTERS" --readers "$READERS" --ids-out "$WORK/acked.txt" >"$WORK/result.json"

# Stop the server cleanly (SIGTERM: graceful shutdown), then count.
kill -TERM "$SERVER"
wait "$SERVER" || true

python3 - "$DATA/pyward-server.sqlite3" "$WORK/acked.txt" "$WORK/result.json" <<'PY'
import json, sqlite3, sys
db, acked_file, result_file = sys.argv[1:4]
result = json.load(open(result_file))
acked = [l for l in open(acked_file).read().split("\n") if l]
con = sqlite3.connect(db)
rows = con.execute("SELECT COUNT(*), COUNT(DISTINCT id), COUNT(DISTINCT reason) FROM reports WHERE id LIKE 'load-%'").fetchone()
stored = {r[0] for r in con.execute("SELECT id FROM reports WHERE id LIKE 'load-%'")}
total, distinct_ids, distinct_reasons = rows
lost = len(set(acked) - stored)
unacked = len(stored - set(acked))
duplicated = (total - distinct_reasons) + (len(acked) - len(set(acked)))
s, f = result["submit"], result["feed"]
print(f"submit: {s['requests']} reports in {result['seconds']} s = {s['per_second']}/s, "
      f"p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms, max {s['max_ms']} ms, "
      f"errors {s['errors']}, retries {s['retries']}")
print(f"feed:   {f['requests']} reads = {f['per_second']}/s, "
      f"p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, max {f['max_ms']} ms, errors {f['errors']}")
print(f"database: {total} rows, {distinct_ids} distinct ids, {len(set(acked))} acknowledged; "
      f"lost {lost}, duplicated {duplicated}, stored but unacknowledged {unacked}")
ok = lost == 0 and duplicated == 0 and unacked == 0 and total == len(set(acked)) and s["requests"] > 0
print("result: " + ("ok: zero lost, zero duplicated" if ok else "FAILED"))
sys.exit(0 if ok else 1)
PY
