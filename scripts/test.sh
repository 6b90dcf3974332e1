#!/usr/bin/env bash
# `make test`: set up everything, then the whole suite twice: on SQLite with one
# worker (plus the docker compose deployment test), then on PostgreSQL and Redis
# with several workers.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

WITH_BROWSER=1 bash scripts/setup.sh
eval "$(bash scripts/test_services.sh)"
export SAAS_PANEL_TEST_REDIS_URL

echo "[test] run 1 of 2: SQLite, one worker"
env SAAS_PANEL_TEST_DB_URL= SAAS_PANEL_TEST_E2E_DB_URL= "$VENV/bin/python" -m pytest "$@"

echo "[test] run 2 of 2: PostgreSQL and Redis, several workers"
env SAAS_PANEL_TEST_DB_URL="$SAAS_PANEL_TEST_DB_URL" SAAS_PANEL_TEST_E2E_DB_URL="$SAAS_PANEL_TEST_E2E_DB_URL" \
    "$VENV/bin/python" -m pytest -m "not deploy" "$@"
