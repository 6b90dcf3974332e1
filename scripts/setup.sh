#!/usr/bin/env bash
# Idempotent set-up shared by `make run`, `make test` and `make bench`:
# system packages, the Python venv (from requirements.lock), bun for Reflex, the
# Docker engine and the user image. Anything that cannot be set up is reported with
# the fix, and the rest carries on (the panel then shows "container engine unavailable").
set -euo pipefail
cd "$(dirname "$0")/.."

LOG_TAG=setup
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

PYTHON=${PYTHON:-python3}
WITH_BROWSER=${WITH_BROWSER:-0}   # 1: also install Chromium for the browser tests

setup_python() {
    if [ ! -x "$VENV/bin/python" ]; then
        say "creating virtualenv $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    local stamp
    stamp="$VENV/.installed-$(cat pyproject.toml requirements.lock | sha1sum | cut -c1-12)"
    [ -f "$stamp" ] && return 0
    say "installing the Python dependencies pinned in requirements.lock"
    quietly "$VENV/bin/pip" install --disable-pip-version-check -r requirements.lock
    quietly "$VENV/bin/pip" install --disable-pip-version-check --no-deps -e .
    quietly "$VENV/bin/pip" check ||
        die "requirements.lock does not cover pyproject.toml: run 'bash scripts/lock.sh' (README, Dependencies)"
    touch "$stamp"
}

setup_bun() {
    # Reflex downloads bun from a host that may be unreachable; npm's package works everywhere.
    command -v node >/dev/null 2>&1 || apt_install_commands node:nodejs npm:npm || true
    if ! command -v bun >/dev/null 2>&1; then
        say "installing bun with npm"
        npm install -g bun >/dev/null 2>&1 || warn "could not install bun: run 'npm install -g bun'"
    fi
}

setup_browser() {
    [ "$WITH_BROWSER" = 1 ] || return 0
    apt_install_commands chromium:chromium || warn "browser tests need Chromium at /usr/bin/chromium"
}

setup_engine() {
    # debootstrap builds a Python base image when no registry can provide one;
    # docker-compose (v1, Debian's) runs the deployment where the v2 plugin is absent.
    apt_install_commands debootstrap:debootstrap || true
    if ! docker compose version >/dev/null 2>&1; then
        apt_install_commands docker-compose:docker-compose || true
    fi
    if engine_up; then return 0; fi
    apt_install_commands docker:docker.io dockerd:docker.io || true
    if ! command -v dockerd >/dev/null 2>&1; then
        warn "No Docker engine. Install Docker (https://docs.docker.com/engine/install/) and start it; the panel runs without it and says 'container engine unavailable'."
        return 1
    fi
    if is_root; then
        say "starting dockerd"
        mkdir -p /var/log
        nohup dockerd >/var/log/saas-panel-dockerd.log 2>&1 &
        for _ in $(seq 1 60); do engine_up && break; sleep 0.5; done
    fi
    if ! engine_up; then
        warn "The Docker engine is not running. Start it with 'sudo systemctl start docker' (or 'sudo dockerd &') and add your user to the 'docker' group."
        return 1
    fi
}

setup_firewall() {
    # User containers must reach neither the host (panel, PostgreSQL, Redis) nor link-local or private addresses.
    local networks=("${SAAS_PANEL_USER_NETWORK:-saas-panel-users}" saas-panel-test)
    if is_root; then
        bash deploy/firewall/user-firewall.sh "${networks[@]}" || warn "the user firewall could not be installed"
    else
        warn "user containers are not firewalled: run 'sudo bash deploy/firewall/user-firewall.sh ${networks[*]}'"
    fi
}

setup_edge() {
    # The edge proxy in front of the panel and the users' apps (Debian's package). Its
    # packaged service is not wanted: `make run` and the tests start their own Caddy.
    if ! command -v caddy >/dev/null 2>&1; then
        apt_install_commands caddy:caddy || { warn "no Caddy: install it with 'sudo apt-get install caddy'"; return 1; }
        if is_root && command -v systemctl >/dev/null 2>&1; then systemctl disable --now caddy >/dev/null 2>&1 || true; fi
    fi
}

main() {
    setup_python
    setup_bun
    setup_browser
    setup_edge || true
    if setup_engine; then
        bash scripts/build_images.sh || warn "building the user image failed; see the messages above"
        setup_firewall
    fi
    say "ready"
}

main "$@"
