#!/usr/bin/env bash
# Build the deployment's images with docker compose (the panel, its edge and engine socket proxy;
# with `--env-file deploy/scale.env`, PostgreSQL and Redis too), choosing the base like
# scripts/build_images.sh: BASE_IMAGE if set, else python:3.12-slim if present, else the local
# Debian-built base (then the panel installs offline, from the wheels in build/wheels).
#
#   bash scripts/panel_image.sh [compose options, e.g. --env-file deploy/scale.env]
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv} bash scripts/image_inputs.sh
bash scripts/build_images.sh >/dev/null  # also makes saas-panel/python-base:bookworm when needed

if [ -z "${BASE_IMAGE:-}" ]; then
    if docker image inspect python:3.12-slim >/dev/null 2>&1; then
        export BASE_IMAGE=python:3.12-slim
    else
        export BASE_IMAGE=saas-panel/python-base:bookworm OFFLINE=1
    fi
fi
export OFFLINE=${OFFLINE:-0}
# Docker CLIs >= 23 need buildx for BuildKit; the classic builder is enough here.
if [ -z "${DOCKER_BUILDKIT:-}" ] && ! docker buildx version >/dev/null 2>&1; then
    export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0
fi
echo "[panel-image] building the images (panel: ${SAAS_PANEL_IMAGE:-saas-panel/panel:latest}) from $BASE_IMAGE (offline=$OFFLINE)"
compose() {
    if command -v docker-compose >/dev/null 2>&1; then docker-compose "$@"; else docker compose "$@"; fi
}
# The edge is built from the panel's image: the panel first.
compose "$@" build panel
compose "$@" build
# Earlier builds of the panel are left untagged by each rebuild: drop them.
docker image prune -f --filter "label=org.opencontainers.image.title=saas-panel" >/dev/null
