#!/usr/bin/env bash
# `make test`: set up everything, then the whole suite twice: on SQLite with one
# worker (plus the docker compose deployment and the Swarm fleet tests, which do not
# depend on the database), then on PostgreSQL and Redis with several workers.
set -euo pipefail
cd "$(dirname "$0")/.."

LOG_TAG='test'
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

WITH_BROWSER=1 bash scripts/setup.sh
bash scripts/swarm_node_image.sh || warn "no Swarm node image: the Swarm tests will not run"
services=$(bash scripts/test_services.sh) ||
    die "PostgreSQL and Redis for the second run could not be started: see the messages above"
eval "$services"

say "run 1 of 2: SQLite, one worker"
env SAAS_PANEL_TEST_DB_URL= SAAS_PANEL_TEST_E2E_DB_URL= "$VENV/bin/python" -m pytest "$@"

say "run 2 of 2: PostgreSQL and Redis, several workers"
env SAAS_PANEL_TEST_DB_URL="$SAAS_PANEL_TEST_DB_URL" SAAS_PANEL_TEST_E2E_DB_URL="$SAAS_PANEL_TEST_E2E_DB_URL" \
    "$VENV/bin/python" -m pytest -m "not deploy and not swarm" "$@"
