#!/usr/bin/env bash
# Installs (Debian's postgresql), starts and prepares a local PostgreSQL for
# pyward-server's tests. Idempotent, quiet, and fast when already running.
# Prints one line for the caller to eval:
#   eval "$(bash .ci/postgres.sh)"   # sets PYWARD_TEST_POSTGRES_URL
# Progress and errors go to stderr.
set -euo pipefail

# Everything any tool prints (pg_ctlcluster, apt, psql notices) goes to
# stderr; only the final export line goes to the caller's stdout (fd 3).
exec 3>&1 1>&2

DB=pyward_test
USER_NAME=pyward_test
PASSWORD=pyward_test

log() { echo "postgres.sh: $*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

if ! command -v pg_lsclusters >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    log "installing postgresql (apt)"
    as_root apt-get update -qq >/dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

# The newest installed major version, and its cluster (created if missing).
VERSION=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main"' | grep -q .; then
    log "creating cluster $VERSION/main"
    as_root pg_createcluster "$VERSION" main >/dev/null
fi
PORT=$(pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main" { print $3 }')
if ! pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main" { print $4 }' | grep -q online; then
    log "starting cluster $VERSION/main on port $PORT"
    as_root pg_ctlcluster "$VERSION" main start
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

echo "export PYWARD_TEST_POSTGRES_URL=postgres://$USER_NAME:$PASSWORD@127.0.0.1:$PORT/$DB" >&3
