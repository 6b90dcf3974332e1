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

build_if_changed "${SAAS_PANEL_USER_IMAGE:-saas-panel/user-dashboard:latest}" user_dashboard
