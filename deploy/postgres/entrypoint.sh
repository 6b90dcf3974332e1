#!/bin/sh
# First start: create the cluster, the user and the database. Every start: allow password
# (scram-sha-256) logins only from this container's own networks (the compose network), then
# run the server.
set -eu
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is required (no default)}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" -A scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
    pg_ctl -D "$PGDATA" -w -o "-c listen_addresses=''" start >/dev/null
    PGPASSWORD=$POSTGRES_PASSWORD createdb -U "$POSTGRES_USER" "$POSTGRES_DB"
    pg_ctl -D "$PGDATA" -w stop >/dev/null
fi
# Rewritten at every start: the compose network's subnet changes when the network is recreated.
{
    echo "# Written by entrypoint.sh at every start."
    echo "local all all scram-sha-256"
    echo "host all all 127.0.0.1/32 scram-sha-256"
    ip -4 route show scope link | awk '{ print "host all all " $1 " scram-sha-256" }'
} > "$PGDATA/pg_hba.conf"
exec postgres -D "$PGDATA" -c listen_addresses='*'
