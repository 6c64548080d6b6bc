#!/usr/bin/env bash
# Installs (Debian's postgresql), starts and prepares a local PostgreSQL for
# pyward-server's tests. Idempotent, quiet, and fast when already running.
# Usage: bash .ci/postgres.sh ENV_FILE
# writes one line, `export PYWARD_TEST_POSTGRES_URL=...`, to ENV_FILE for
# the caller to source. Progress and errors go to stderr.
#
# The PostgreSQL server outlives this script, so nothing that may start it
# (apt's post-install step, pg_ctlcluster) inherits the caller's stdout,
# stderr or any pipe: a caller reading those until they close would wait for
# the server to exit, that is forever. Such commands run with stdin from
# /dev/null and their output in a log file, which is then shown on stderr.
set -euo pipefail

ENV_FILE=${1:?usage: postgres.sh ENV_FILE}
DB=pyward_test
USER_NAME=pyward_test
PASSWORD=pyward_test

log() { echo "postgres.sh: $*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

# Runs a command that may leave a daemon behind, detached from our
# descriptors; its output is shown afterwards, and a failure stops the script.
detached() {
    local out status=0
    out=$(mktemp)
    as_root "$@" </dev/null >"$out" 2>&1 || status=$?
    cat "$out" >&2
    rm -f "$out"
    if [ "$status" -ne 0 ]; then
        log "failed (exit $status): $*"
        exit 1
    fi
}

if ! command -v pg_lsclusters >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    log "installing postgresql (apt)"
    detached apt-get update -qq
    detached env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
fi

# The newest installed major version, and its cluster (created if missing).
VERSION=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main"' | grep -q .; then
    log "creating cluster $VERSION/main"
    detached pg_createcluster "$VERSION" main
fi
PORT=$(pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main" { print $3 }')
if ! pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main" { print $4 }' | grep -q online; then
    log "starting cluster $VERSION/main on port $PORT"
    detached pg_ctlcluster "$VERSION" main start
fi
for _ in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p "$PORT" && break
    sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$PORT" || { log "PostgreSQL did not come up on port $PORT"; exit 1; }

psql_admin() { as_root runuser -u postgres -- psql -p "$PORT" -qtAX -v ON_ERROR_STOP=1 "$@"; }
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$USER_NAME'")" != 1 ]; then
    psql_admin -c "CREATE ROLE $USER_NAME LOGIN PASSWORD '$PASSWORD'" >/dev/null
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
    psql_admin -c "CREATE DATABASE $DB OWNER $USER_NAME" >/dev/null
fi

echo "export PYWARD_TEST_POSTGRES_URL=postgres://$USER_NAME:$PASSWORD@127.0.0.1:$PORT/$DB" >"$ENV_FILE"
