#!/usr/bin/env bash
# Build the per-user image (saas-panel/user-dashboard:latest) without any registry.
# Idempotent: the image carries a hash of its sources and base image, and is
# only rebuilt when that hash changes.
#
# Environment:
#   SAAS_PANEL_USER_IMAGE  image to build (default saas-panel/user-dashboard:latest)
#   BASE_IMAGE             base image to use (default: first locally available of
#                          python:3.12-slim, saas-panel/python-base:bookworm; the
#                          latter is built with debootstrap when neither exists)
set -euo pipefail
cd "$(dirname "$0")/.."

USER_IMAGE=${SAAS_PANEL_USER_IMAGE:-saas-panel/user-dashboard:latest}
LOCAL_BASE=saas-panel/python-base:bookworm
CONTEXT=user_dashboard
HASH_LABEL=saas-panel.source-hash

say() { printf '[images] %s\n' "$*"; }
die() { printf '[images] error: %s\n' "$*" >&2; exit 1; }

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

host_mirror() {
    # The Debian mirror this host already uses; the default one may be unreachable.
    local uri=""
    if [ -f /etc/apt/sources.list.d/debian.sources ]; then
        uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' \
            /etc/apt/sources.list.d/debian.sources)
    fi
    if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
        uri=$(awk '$1 == "deb" && $0 !~ /security/ {
                    for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}

build_local_base() {
    [ "$(id -u)" = 0 ] || die "no base image found; building $LOCAL_BASE needs root (run this script with sudo)"
    command -v debootstrap >/dev/null 2>&1 ||
        die "no base image found and debootstrap is missing: apt-get install -y debootstrap"
    local mirror dir
    mirror=$(host_mirror)
    dir=$(mktemp -d /tmp/saas-panel-rootfs.XXXXXX)
    # shellcheck disable=SC2064  # expand $dir now: it is local
    trap "rm -rf '$dir'" EXIT
    say "building $LOCAL_BASE with debootstrap from $mirror (a few minutes)"
    debootstrap --variant=minbase --include=python3 bookworm "$dir" "$mirror" >/dev/null
    tar -C "$dir" -c . | docker import - "$LOCAL_BASE" >/dev/null
    rm -rf "$dir"
    trap - EXIT
}

pick_base() {
    if [ -n "${BASE_IMAGE:-}" ]; then
        image_exists "$BASE_IMAGE" || die "BASE_IMAGE=$BASE_IMAGE is not present locally (no registry access)"
        echo "$BASE_IMAGE"
    elif image_exists python:3.12-slim; then
        echo python:3.12-slim
    else
        image_exists "$LOCAL_BASE" || build_local_base >&2
        echo "$LOCAL_BASE"
    fi
}

source_hash() {
    # Content of every file in the build context, plus the exact base image.
    local base_id=$1
    {
        find "$CONTEXT" -type f ! -path '*/__pycache__/*' ! -name '*.py[co]' -print0 |
            LC_ALL=C sort -z | xargs -0 sha256sum
        echo "base $base_id"
    } | sha256sum | cut -c1-64
}

image_label() {
    docker image inspect --format "{{ index .Config.Labels \"$HASH_LABEL\" }}" "$1" 2>/dev/null || true
}

build_user_image() {
    local base=$1 hash=$2 log
    # Docker CLIs >= 23 need buildx for BuildKit; the classic builder is enough here.
    if [ -z "${DOCKER_BUILDKIT:-}" ] && ! docker buildx version >/dev/null 2>&1; then
        export DOCKER_BUILDKIT=0
    fi
    log=$(mktemp)
    say "building $USER_IMAGE from $base"
    if ! docker build --pull=false --build-arg "BASE_IMAGE=$base" --label "$HASH_LABEL=$hash" \
            -t "$USER_IMAGE" "$CONTEXT" >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        rm -f "$log"
        die "docker build failed"
    fi
    rm -f "$log"
}

main() {
    docker info >/dev/null 2>&1 || die "Docker engine not reachable"
    local base base_id hash existing
    base=$(pick_base)
    base_id=$(docker image inspect --format '{{.Id}}' "$base")
    hash=$(source_hash "$base_id")

    if [ "$(image_label "$USER_IMAGE")" = "$hash" ]; then
        say "$USER_IMAGE is up to date"
        return 0
    fi
    existing=$(docker images -q --filter "label=$HASH_LABEL=$hash" | head -n1)
    if [ -n "$existing" ]; then
        say "tagging existing build $existing as $USER_IMAGE"
        docker tag "$existing" "$USER_IMAGE"
        return 0
    fi
    build_user_image "$base" "$hash"
    # The previous build is now untagged: drop it.
    docker image prune -f --filter "label=saas-panel.image=user-dashboard" >/dev/null
    say "built $USER_IMAGE"
}

main "$@"
