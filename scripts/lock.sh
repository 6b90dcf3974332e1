#!/usr/bin/env bash
# Write requirements.lock: every dependency of pyproject.toml (with the test extra) pinned, with
# hashes, for every platform and Python 3.11 and later. The pins already in the lock are kept
# where pyproject.toml allows them; `bash scripts/lock.sh --upgrade` moves everything to the newest.
# The compiler lives in a throw-away virtualenv: installing from the lock needs only pip.
set -euo pipefail
cd "$(dirname "$0")/.."

LOG_TAG=lock
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

tools=$(mktemp -d /tmp/saas-panel-lock.XXXXXX)
trap 'rm -rf "$tools"' EXIT
say "installing the compiler (uv) in $tools"
"${PYTHON:-python3}" -m venv "$tools"
quietly "$tools/bin/pip" install --disable-pip-version-check 'uv>=0.13,<1'
"$tools/bin/uv" pip compile pyproject.toml --extra test --universal --python-version 3.11 --generate-hashes \
    --custom-compile-command "bash scripts/lock.sh" --output-file requirements.lock --quiet "$@"
say "wrote requirements.lock"
