"""Plain `reflex run` (development mode, hot reload) on a new database, as a newcomer starts it.

The frontend (Vite's dev server) and the backend get their own ports; the backend applies
the migrations and creates the first admin as it starts, printing the generated password;
Chromium opens the frontend's port and logs in through the backend's websocket. The
production path (`make run`: the edge in front of `reflex run --env prod`) is what the
other browser tests run (devtools/panel.py).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from devtools.panel import STARTUP_TIMEOUT_S, PanelProcess, free_port, new_container_prefix
from saas_panel.config import PROJECT_ROOT

GENERATED_PASSWORD = re.compile(r"this password \(shown once\):\s+(\S+)")
PAGE_TIMEOUT_MS = 120_000  # the dev server compiles each module on its first request
# Settings a surrounding run may have set that this panel must not inherit.
NOT_INHERITED = ("SAAS_PANEL_ADMIN_PASSWORD", "SAAS_PANEL_PUBLIC_URL", "SAAS_PANEL_ALLOWED_ORIGINS", "SAAS_PANEL_EDGE",
                 "REFLEX_REDIS_URL", "GRANIAN_WORKERS")


@pytest.fixture
def dev_panel(tmp_path):
    """`reflex run` on free ports with its own database, web and states directories: the
    project's `.web` and `.states` belong to the production panel of the other browser tests."""
    web_dir = tmp_path / "web"
    if (PROJECT_ROOT / ".web" / "node_modules").is_dir():  # seeded, so that no package is downloaded
        subprocess.run(["cp", "-a", str(PROJECT_ROOT / ".web"), str(web_dir)], check=True)
        shutil.rmtree(web_dir / "build", ignore_errors=True)
    port = free_port()
    env = {name: value for name, value in os.environ.items() if name not in NOT_INHERITED}
    env.update(
        PORT=str(port),
        SAAS_PANEL_BACKEND_PORT=str(free_port()),
        REFLEX_DB_URL=f"sqlite:///{tmp_path / 'panel.db'}",
        REFLEX_WEB_WORKDIR=str(web_dir),
        REFLEX_STATES_WORKDIR=str(tmp_path / "states"),
        REFLEX_USE_SYSTEM_BUN="1",
        SAAS_PANEL_SECRET_FILE=str(tmp_path / "secret_key"),
        SAAS_PANEL_STORAGE_DIR=str(tmp_path / "volumes"),
        SAAS_PANEL_CONTAINER_PREFIX=new_container_prefix("dev"),
    )
    panel = PanelProcess(f"http://localhost:{port}", tmp_path / "panel.log", env["SAAS_PANEL_CONTAINER_PREFIX"], tmp_path, port, env)
    with panel.log_path.open("w") as out:
        panel.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "reflex"), "run"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        panel.wait_ready(urls=[f"http://localhost:{env['SAAS_PANEL_BACKEND_PORT']}/ping", f"{panel.base_url}/login/"])
        yield panel
    finally:
        panel.stop()


def test_plain_reflex_run_serves_a_new_database_and_the_first_admin_logs_in(dev_panel, browser):
    context = browser.new_context(base_url=dev_panel.base_url, viewport={"width": 1200, "height": 800})
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    seen = []  # what the page did, shown on a failure
    page.on("console", lambda message: seen.append(f"{message.type}: {message.text}"))
    page.on("framenavigated", lambda frame: seen.append(f"navigated: {frame.url}"))
    page.on("websocket", lambda socket: seen.append(f"websocket: {socket.url}"))
    try:
        printed = GENERATED_PASSWORD.findall(dev_panel.log_tail(chars=1_000_000))
        assert len(printed) == 1, "the backend prints the generated admin password once"
        # The Reflex socket, not the dev server's own: a click before it is up would be lost.
        with page.expect_websocket(lambda socket: "/_event" in socket.url, timeout=STARTUP_TIMEOUT_S * 1000):
            page.goto("/login")
        page.fill("#username", "admin")
        page.fill("#password", printed[0])
        page.click("#login-submit")
        page.wait_for_url("**/admin**")
        expect(page.locator("#admin-heading")).to_be_visible()
    except BaseException:
        print(f"--- reflex run (tail) ---\n{dev_panel.log_tail(6000)}\n--- the page ---\n" + "\n".join(seen[-60:]))
        raise
    finally:
        context.close()
