#!/usr/bin/env bash
# Build the image of the test fleet's Swarm nodes (saas-panel/swarm-node:latest, from
# deploy/swarm-node) on the same base as the user image; only rebuilt when its sources or base change.
#
#   SAAS_PANEL_SWARM_NODE_IMAGE  image to build (default saas-panel/swarm-node:latest)
set -euo pipefail
cd "$(dirname "$0")/.."

LOG_TAG=swarm-node
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

build_if_changed "${SAAS_PANEL_SWARM_NODE_IMAGE:-saas-panel/swarm-node:latest}" deploy/swarm-node
