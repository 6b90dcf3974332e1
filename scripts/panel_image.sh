#!/usr/bin/env bash
# Build the deployment's images with docker compose (the panel, its edge and engine socket proxy;
# with `--env-file deploy/scale.env`, PostgreSQL and Redis too), on the base that
# scripts/build_images.sh uses: BASE_IMAGE if set, else python:3.12-slim if present, else the local
# Debian-built base (then the panel installs offline, from the wheels in build/wheels).
#
#   bash scripts/panel_image.sh [compose options, e.g. --env-file deploy/scale.env]
set -euo pipefail
cd "$(dirname "$0")/.."

LOG_TAG=panel-image
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

bash scripts/image_inputs.sh
bash scripts/build_images.sh >/dev/null  # the user image; also makes the local base when needed

BASE_IMAGE=$(pick_base)
if [ "$BASE_IMAGE" = "$LOCAL_BASE" ]; then
    OFFLINE=${OFFLINE:-1}  # Debian's minimal base has no pip to reach PyPI with
fi
export BASE_IMAGE OFFLINE=${OFFLINE:-0}
use_classic_builder_without_buildx
say "building the images (panel: ${SAAS_PANEL_IMAGE:-saas-panel/panel:latest}) from $BASE_IMAGE (offline=$OFFLINE)"
compose() {
    if command -v docker-compose >/dev/null 2>&1; then docker-compose "$@"; else docker compose "$@"; fi
}
# The edge is built from the panel's image: the panel first.
compose "$@" build panel
compose "$@" build
# Earlier builds of the panel are left untagged by each rebuild: drop them.
docker image prune -f --filter "label=org.opencontainers.image.title=saas-panel" >/dev/null
