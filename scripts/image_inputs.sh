#!/usr/bin/env bash
# Prepare what the panel image needs but cannot fetch itself where no registry is
# reachable: Python wheels for every dependency in requirements.lock (plus pip, for a
# base image without it) and the built frontend. Output in build/; skipped when up to date.
#
#   PORT                   the edge's port (default 8000)
#   SAAS_PANEL_PUBLIC_URL  the panel's public address (default http://localhost:PORT)
set -euo pipefail
cd "$(dirname "$0")/.."

LOG_TAG=image-inputs
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

OUT=build
LOCK=requirements.lock

wheels() {
    local stamp
    stamp="$OUT/wheels/.stamp-$(sha1sum "$LOCK" | cut -c1-12)-$("$VENV/bin/python" -c 'import sys; print("%d%d" % sys.version_info[:2])')"
    if [ -f "$stamp" ]; then say "wheels up to date"; return 0; fi
    rm -rf "$OUT/wheels" && mkdir -p "$OUT/wheels"
    say "building wheels for every dependency in $LOCK"
    quietly "$VENV/bin/pip" wheel --disable-pip-version-check --wheel-dir "$OUT/wheels" -r "$LOCK"
    # pip itself (a Debian-built base has none), and what Debian's Python 3.11.2 needs beyond
    # the host's newer 3.11 (redis asks for async-timeout below 3.11.3).
    # shellcheck disable=SC2046  # no word, or one: the locked async-timeout
    quietly "$VENV/bin/pip" download --disable-pip-version-check --no-deps --dest "$OUT/wheels" pip \
        $(grep -oE '^async-timeout==[^ ;]+' "$LOCK" || true)
    # The same pins without their hashes, which wheels built here from source would not match.
    sed -e '/^ *#/d' -e '/^ *--hash/d' -e 's/ *\\$//' "$LOCK" > "$OUT/requirements.txt"
    touch "$stamp"
}

frontend() {
    # The browser connects back to the public address the frontend was built for: part of the build.
    local public=${SAAS_PANEL_PUBLIC_URL:-http://localhost:${PORT:-8000}}
    local stamp="$OUT/frontend/.stamp-$( (echo "$public"; find saas_panel rxconfig.py assets -type f -name '*' ! -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha1sum) | sha1sum | cut -c1-12)"
    if [ -f "$stamp" ]; then say "frontend up to date"; return 0; fi
    say "building the frontend for $public"
    # Exported from a copy, so the project's own .web (in use by `make run` or tests) is left alone.
    local work="$OUT/frontend-work" venv
    venv=$(cd "$VENV" && pwd)
    mkdir -p "$work"
    rm -rf "$work/saas_panel" "$work/assets"
    cp -a saas_panel assets rxconfig.py "$work/"
    (cd "$work" && REFLEX_USE_SYSTEM_BUN=1 "$venv/bin/reflex" export --frontend-only --no-zip --env prod >/dev/null)
    rm -rf "$OUT/frontend" && mkdir -p "$OUT/frontend"
    cp -a "$work/.web/build/client/." "$OUT/frontend/"
    touch "$stamp"
}

wheels
frontend
say "ready: $OUT/wheels, $OUT/requirements.txt, $OUT/frontend"
