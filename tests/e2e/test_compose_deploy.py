"""The docker compose deployment: build, up (healthy), signup in Chromium, the user's app answers, down."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from saas_panel.config import PROJECT_ROOT
from tests.e2e.helpers import sign_up

pytestmark = pytest.mark.deploy

PORT = 18000  # baked into this image's frontend; the default deployment uses 8000
HEALTHY_TIMEOUT_S = 180


def _compose(*args: str, env: dict) -> subprocess.CompletedProcess:
    command = ["docker-compose"] if shutil.which("docker-compose") else ["docker", "compose"]
    return subprocess.run([*command, *args], cwd=PROJECT_ROOT, env=env, check=True, capture_output=True, text=True)


def _wait_healthy(env: dict) -> None:
    deadline = time.monotonic() + HEALTHY_TIMEOUT_S
    while time.monotonic() < deadline:
        container_id = _compose("ps", "-q", "panel", env=env).stdout.strip()
        if container_id:
            state = json.loads(subprocess.run(["docker", "inspect", container_id], capture_output=True, text=True).stdout)[0]["State"]
            if state.get("Health", {}).get("Status") == "healthy":
                return
            if state["Status"] == "exited":
                break
        time.sleep(2)
    logs = _compose("logs", "--tail", "60", "panel", env=env).stdout
    raise AssertionError(f"the panel never became healthy:\n{logs}")


@pytest.fixture
def deployment():
    prefix = f"cmp{uuid.uuid4().hex[:6]}-"
    env = {
        **os.environ,
        "PORT": str(PORT),
        "SAAS_PANEL_IMAGE": "saas-panel/panel:e2e",
        "COMPOSE_PROJECT_NAME": "saas-panel-e2e",
        "SAAS_PANEL_ADMIN_PASSWORD": "compose admin password",
        "SAAS_PANEL_CONTAINER_PREFIX": prefix,
        "VENV": str(Path(sys.executable).parent.parent),  # the scripts use this project's venv
    }
    subprocess.run(["bash", "scripts/panel_image.sh"], cwd=PROJECT_ROOT, env=env, check=True)
    try:
        _compose("up", "-d", env=env)
        _wait_healthy(env)
        yield f"http://127.0.0.1:{PORT}"
    finally:
        _compose("down", "-v", env=env)
        subprocess.run(
            f"docker ps -aq --filter name={prefix} | xargs -r docker rm -f", shell=True, capture_output=True
        )


def test_compose_deployment_serves_signup_and_user_apps(deployment, browser):
    context = browser.new_context(base_url=deployment)
    context.set_default_timeout(30_000)
    page = context.new_page()
    name = f"c{uuid.uuid4().hex[:8]}"
    sign_up(page, name)
    page.wait_for_url("**/dashboard**")
    expect(page.locator("#container-status")).to_have_text("running", timeout=60_000)
    href = page.locator("#open-app").get_attribute("href")
    with urllib.request.urlopen(href, timeout=10) as response:
        assert response.status == 200 and name in response.read().decode()
    context.close()
