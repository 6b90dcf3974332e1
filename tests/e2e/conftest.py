"""A real panel (`reflex run --env prod --single-port`) on a fresh database, and real Chromium."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from saas_panel.config import PROJECT_ROOT

ADMIN_PASSWORD = "e2e admin password"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_TIMEOUT_S = 420


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"panel exited early:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise RuntimeError(f"panel did not answer {url} in {STARTUP_TIMEOUT_S}s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def panel(tmp_path_factory):
    """Base URL of a running panel whose admin password is ADMIN_PASSWORD."""
    workdir = tmp_path_factory.mktemp("panel")
    container_prefix = f"e2e{uuid.uuid4().hex[:8]}-"
    port = _free_port()
    env = {
        **os.environ,
        "REFLEX_DB_URL": f"sqlite:///{workdir / 'panel.db'}",
        "SAAS_PANEL_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "PORT": str(port),
        "REFLEX_USE_SYSTEM_BUN": "1",
        "SAAS_PANEL_CONTAINER_PREFIX": container_prefix,
    }
    subprocess.run([sys.executable, "-m", "saas_panel", "bootstrap"], env=env, check=True, cwd=PROJECT_ROOT)
    log = workdir / "panel.log"
    reflex = Path(sys.executable).parent / "reflex"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(reflex), "run", "--env", "prod", "--single-port"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base_url}/ping", process, log)
        _wait_for(f"{base_url}/login/", process, log)
        yield base_url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        _remove_containers(container_prefix)


def _remove_containers(prefix: str) -> None:
    import docker

    try:
        client = docker.from_env(timeout=30)
        for container in client.containers.list(all=True, filters={"name": prefix}):
            container.remove(force=True)
    except docker.errors.DockerException as exc:
        print(f"could not clean up containers {prefix}*: {exc}")


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make test`, which installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, panel):
    context = browser.new_context(base_url=panel, viewport={"width": 1200, "height": 800})
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()
