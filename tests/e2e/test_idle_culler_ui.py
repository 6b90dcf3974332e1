"""The idle culler stops an app nobody visits, and its owner sees why (a panel of its own: a
timeout this short would stop the other tests' apps)."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from devtools.panel import running_panel
from tests.e2e.conftest import ADMIN_PASSWORD
from tests.e2e.helpers import sign_up

IDLE_SECONDS = 6


@pytest.fixture(scope="module")
def idle_panel(tmp_path_factory):
    # SQLite and one worker in both CI runs: the shared e2e database and Redis belong to the main panel.
    settings = {"SAAS_PANEL_METRICS_INTERVAL": "1", "SAAS_PANEL_IDLE_STOP_MINUTES": str(IDLE_SECONDS / 60)}
    with running_panel(tmp_path_factory.mktemp("idle-panel"), ADMIN_PASSWORD, settings) as panel:
        yield panel.base_url


def test_an_app_nobody_visits_is_stopped_and_the_owner_is_told(browser, idle_panel):
    context = browser.new_context(base_url=idle_panel)
    context.set_default_timeout(20_000)
    page = context.new_page()
    sign_up(page, f"i{uuid.uuid4().hex[:10]}")
    page.wait_for_url("**/dashboard**")
    expect(page.locator("#container-status")).to_have_text("running", timeout=60_000)
    page.goto(page.locator("#open-app").get_attribute("href"))  # one visit, then silence
    page.goto("/dashboard")
    expect(page.locator("#container-status")).to_have_text("stopped", timeout=45_000)
    page.reload()
    expect(page.locator("#activity-timeline")).to_contain_text("system idle stop")
    context.close()
