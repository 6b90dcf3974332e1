#!/bin/sh
# The password goes to redis-server on stdin, not on its command line (which `ps` shows).
set -eu
: "${REDIS_PASSWORD:?REDIS_PASSWORD is required (no default)}"
exec redis-server --bind 0.0.0.0 --save "" --appendonly no - <<CONF
requirepass "$REDIS_PASSWORD"
CONF
