#!/usr/bin/env bash
# `make run`: the edge (Caddy) on the public port in front of the panel (Reflex, production
# mode) on an internal one; both stop together.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${VENV:-.venv}/bin/python
if [ "${SAAS_PANEL_EDGE:-caddy}" = none ]; then
    exec "${VENV:-.venv}/bin/reflex" run --env prod --single-port
fi
mkdir -p data
"$PY" -m saas_panel caddyfile > data/Caddyfile
caddy run --config data/Caddyfile --adapter caddyfile &
edge=$!
trap 'kill $edge 2>/dev/null || true' EXIT INT TERM
echo "saas-panel on $("$PY" -c 'from saas_panel.config import get_settings; print(get_settings().public_url)'); apps on http://<user>.apps.localhost:${PORT:-8000}/"
"${VENV:-.venv}/bin/reflex" run --env prod --single-port
