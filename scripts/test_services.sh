#!/usr/bin/env bash
# Start PostgreSQL and Redis on loopback for the second test run (from Debian's
# packages; data in a throw-away directory). Prints the URLs as shell exports: only
# they go to standard output, every message goes to standard error.
set -euo pipefail
cd "$(dirname "$0")/.."

LOG_TAG=services
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

PG_PORT=${PG_PORT:-55432}
REDIS_PORT=${REDIS_PORT:-56379}
RUN_DIR=${RUN_DIR:-/tmp/saas-panel-services}

install_missing() {
    local missing=()
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
    command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
    [ ${#missing[@]} -eq 0 ] && return 0
    apt_install "${missing[@]}" || exit 1
    # Debian starts the packaged services; ours run on their own ports, so stop those.
    service postgresql stop >/dev/null 2>&1 || true
    service redis-server stop >/dev/null 2>&1 || true
}

as_postgres() {
    if is_root; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}

start_postgres() {
    local bin pgdata=$RUN_DIR/pg
    bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n1)")
    if pg_isready -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; then return 0; fi
    mkdir -p "$RUN_DIR"
    rm -rf "$pgdata"
    mkdir -p "$pgdata"
    is_root && chown postgres "$pgdata" && chmod 700 "$pgdata"
    say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_postgres "$bin/initdb -D $pgdata -A trust -U saas -E UTF8 --locale=C.UTF-8 >/dev/null"
    as_postgres "$bin/pg_ctl -D $pgdata -l $pgdata/server.log -w -o \"-p $PG_PORT -k /tmp -h 127.0.0.1 -c fsync=off -c max_connections=300\" start >/dev/null"
    for db in saas_panel_test saas_panel_e2e; do
        as_postgres "$bin/createdb -h 127.0.0.1 -p $PG_PORT -U saas $db"
    done
}

start_redis() {
    if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then return 0; fi
    say "starting Redis on 127.0.0.1:$REDIS_PORT"
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly yes --daemonize yes \
        --logfile "$RUN_DIR/redis.log" --dir "$RUN_DIR" >/dev/null
    for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
    die "Redis did not start (log: $RUN_DIR/redis.log)"
}

start_services() {
    install_missing
    mkdir -p "$RUN_DIR"
    start_postgres
    start_redis
}

start_services >&2
echo "export SAAS_PANEL_TEST_DB_URL=postgresql+psycopg://saas@127.0.0.1:$PG_PORT/saas_panel_test"
echo "export SAAS_PANEL_TEST_E2E_DB_URL=postgresql+psycopg://saas@127.0.0.1:$PG_PORT/saas_panel_e2e"
echo "export SAAS_PANEL_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
