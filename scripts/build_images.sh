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

LOG_TAG=images
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

USER_IMAGE=${SAAS_PANEL_USER_IMAGE:-saas-panel/user-dashboard:latest}
CONTEXT=user_dashboard
HASH_LABEL=saas-panel.source-hash

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
    local base=$1 hash=$2
    use_classic_builder_without_buildx
    say "building $USER_IMAGE from $base"
    quietly docker build --pull=false --build-arg "BASE_IMAGE=$base" --label "$HASH_LABEL=$hash" \
        -t "$USER_IMAGE" "$CONTEXT" || die "docker build failed"
}

main() {
    engine_up || die "Docker engine not reachable"
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
