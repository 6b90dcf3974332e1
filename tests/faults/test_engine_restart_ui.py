"""The panel's Docker engine restarts under an open dashboard (`docker restart` of a Docker-in-docker
node that is the panel's engine; never the host's): the page shows the app running again and its
live numbers flowing, without a reload.

The panel here is one of its own, on a database of its own (tests/faults/conftest.py) and with a
frontend build of its own (devtools/panel.py): nothing of it is shared with the e2e tests' panel.
"""

from __future__ import annotations

import subprocess
import uuid

import pytest

from devtools.panel import running_panel
from devtools.swarm import NODE_IMAGE, Fleet
from tests.e2e.helpers import POINT_SELECTOR, sign_up_until_running
from tests.faults.conftest import panel_settings
from tests.prerequisites import skip_outside_ci

pytestmark = [pytest.mark.browser, pytest.mark.engine, pytest.mark.faults, pytest.mark.swarm]

ADMIN_PASSWORD = "faults admin password"
RECOVERY_TIMEOUT_MS = 120_000


@pytest.fixture
def node_panel(tmp_path):
    """A panel whose engine is a one-node fleet's engine (its apps publish on the node's address)."""
    if subprocess.run(["docker", "image", "inspect", NODE_IMAGE], capture_output=True).returncode != 0:
        skip_outside_ci(f"no {NODE_IMAGE}: build it with `bash scripts/swarm_node_image.sh`")
    with Fleet(1) as fleet:
        name = fleet.nodes[0].name
        settings = {**panel_settings(), "DOCKER_HOST": fleet.node_url(name),
                    "SAAS_PANEL_STORAGE_QUOTA": "none",  # loop file systems would be the host's, not the node's
                    "SAAS_PANEL_BIND_HOST": "0.0.0.0"}
        with running_panel(tmp_path, ADMIN_PASSWORD, settings) as panel:
            yield fleet, name, panel


def test_an_open_dashboard_follows_an_engine_restart_without_a_reload(browser, node_panel):
    from playwright.sync_api import expect

    fleet, name, panel = node_panel
    context = browser.new_context(base_url=panel.base_url)
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        sign_up_until_running(page, f"e{uuid.uuid4().hex[:10]}")

        fleet.restart_node(name)

        expect(page.get_by_text("Container engine unavailable")).to_be_hidden(timeout=RECOVERY_TIMEOUT_MS)
        expect(page.locator("#container-status")).to_have_text("running", timeout=RECOVERY_TIMEOUT_MS)
        # Live numbers flow again: the chart's curve changes after the engine is back.
        curve = page.locator(POINT_SELECTOR)
        expect(curve).to_have_count(1, timeout=RECOVERY_TIMEOUT_MS)
        before = curve.get_attribute("d")
        page.wait_for_function(
            "([sel, before]) => { const el = document.querySelector(sel); return el && el.getAttribute('d') !== before; }",
            arg=[POINT_SELECTOR, before],
            timeout=RECOVERY_TIMEOUT_MS,
        )
        assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1  # never reloaded
    except BaseException:
        print(f"panel log (tail):\n{panel.log_tail(6000)}")
        raise
    finally:
        context.close()
