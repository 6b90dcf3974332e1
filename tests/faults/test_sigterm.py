"""SIGTERM to a real panel (`reflex run --env prod`, its whole process group, as a service manager
stops it) while a provision is in flight: it exits within 10 s, and once started again on the same
database the user has exactly one running app, whether the provision finished before the exit or
was cut short (the next start's recovery finishes it)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from devtools.panel import PanelProcess, start_panel
from saas_panel.models import ContainerState
from saas_panel.services import api_tokens, auth, provisioning
from tests.faults.conftest import panel_settings
from tests.faults.helpers import assert_one_running_app, wait_until

pytestmark = [pytest.mark.engine, pytest.mark.faults]

ADMIN_PASSWORD = "faults admin password"
SHUTDOWN_LIMIT_S = 10


def provision_over_the_api(panel: PanelProcess, token: str, username: str) -> int | str:
    """POST /api/provision; the status, or why there was none (the panel went away mid-request)."""
    try:
        response = httpx.post(f"{panel.base_url}/api/provision", json={"username": username, "email": f"{username}@example.com"},
                              headers={"Authorization": f"Bearer {token}"}, timeout=60)
    except httpx.HTTPError as exc:
        return type(exc).__name__
    return response.status_code


def test_sigterm_stops_the_panel_within_10_s_and_a_provision_in_flight_ends_whole(tmp_path, docker_client, monkeypatch):
    workdir, settings = tmp_path / "panel", panel_settings()
    first = start_panel(workdir, ADMIN_PASSWORD, settings)
    again = None
    try:
        monkeypatch.setenv("REFLEX_DB_URL", first.db_url)  # this process reads the panel's database
        monkeypatch.setenv("SAAS_PANEL_CONTAINER_PREFIX", first.container_prefix)
        token = api_tokens.create(auth.authenticate("admin", ADMIN_PASSWORD), "faults", "admin", 1).token
        with ThreadPoolExecutor(max_workers=1) as pool:
            request = pool.submit(provision_over_the_api, first, token, "bob")
            wait_until(lambda: provisioning.container_row_id("bob"), "bob's container row (the provision under way)")
            shutdown_s = first.terminate(SHUTDOWN_LIMIT_S)
            answer = request.result()
        print(f"shutdown after SIGTERM: {shutdown_s:.2f} s; the provision request got {answer}")
        first.stop_edge()

        again = start_panel(workdir, ADMIN_PASSWORD, settings, container_prefix=first.container_prefix)
        wait_until(lambda: provisioning.status("bob").state == ContainerState.RUNNING.value, "bob's app after the restart")
        assert_one_running_app(docker_client, first.container_prefix, "bob")
    finally:
        for panel in (again, first):
            if panel is not None:
                panel.stop()
