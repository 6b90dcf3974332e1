#!/bin/sh
# The password goes to redis-server on stdin, not on its command line (which `ps` shows).
set -eu
: "${REDIS_PASSWORD:?REDIS_PASSWORD is required (no default)}"
# Append-only file: a restarted Redis still holds the open tabs' states and socket records, so their
# dashboards go on updating without a reload.
exec redis-server --bind 0.0.0.0 --save "" --appendonly yes --dir /data - <<CONF
requirepass "$REDIS_PASSWORD"
CONF
