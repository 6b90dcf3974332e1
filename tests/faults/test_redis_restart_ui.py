"""Redis restarted under a panel of several workers: the dashboards already open go on updating,
with no reload.

The collector runs on one worker and each tab's socket on any of them; an update for a tab on
another worker travels through Redis. Reflex's subscribers to it end while Redis is away for more
than a few seconds, and the panel starts them again (saas_panel/state/reflex_redis.py). Several
tabs make it all but certain that one of them is on a worker other than the collector's.
"""

from __future__ import annotations

import subprocess
import time
import uuid

import pytest

from devtools.panel import running_panel
from tests.conftest import empty_postgres
from tests.e2e.helpers import open_when_ready, sign_up_until_running
from tests.faults.conftest import panel_settings

pytestmark = [pytest.mark.faults, pytest.mark.browser]

ADMIN_PASSWORD = "faults admin password"
TABS = 4
# Reflex gives up on a subscriber after five failures a second apart.
OUTAGE_S = 8


@pytest.fixture(scope="module")
def panel_on_own_services(own_services, tmp_path_factory):
    settings = {**panel_settings(), "REFLEX_DB_URL": empty_postgres(own_services.db_url),
                "REFLEX_REDIS_URL": own_services.redis_url, "GRANIAN_WORKERS": "2"}
    with running_panel(tmp_path_factory.mktemp("redis-restart"), ADMIN_PASSWORD, settings) as panel:
        yield panel


def test_after_a_redis_restart_open_dashboards_update_without_a_reload(panel_on_own_services, own_services, browser):
    from playwright.sync_api import expect

    context = browser.new_context(base_url=panel_on_own_services.base_url)
    context.set_default_timeout(20_000)
    first = context.new_page()
    sign_up_until_running(first, f"r{uuid.uuid4().hex[:10]}")
    container_name = first.locator("#container-name").inner_text()
    tabs = [first]
    for _ in range(TABS - 1):
        tab = context.new_page()
        open_when_ready(tab, "/dashboard")
        expect(tab.locator("#container-status")).to_have_text("running", timeout=30_000)
        tabs.append(tab)

    own_services.stop_redis()
    time.sleep(OUTAGE_S)
    own_services.start_redis()
    time.sleep(3)  # the panel's check of Reflex's subscribers runs every 2 s

    subprocess.run(["docker", "stop", "-t", "1", container_name], check=True, capture_output=True)
    try:
        for number, tab in enumerate(tabs, start=1):
            expect(tab.locator("#container-status"), f"tab {number} of {TABS}").to_have_text("stopped", timeout=20_000)
            assert tab.evaluate("() => performance.getEntriesByType('navigation').length") == 1  # never reloaded
    finally:
        subprocess.run(["docker", "rm", "-f", container_name], capture_output=True)
        context.close()
