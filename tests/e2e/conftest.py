"""A real panel (`reflex run --env prod --single-port`) on a fresh database; real Chromium is the session's `browser` (tests/conftest.py).

Starting and stopping the panel lives in devtools/panel.py (shared with the benchmarks).
"""

from __future__ import annotations

import os

import pytest

from devtools.panel import CHROMIUM, STARTUP_TIMEOUT_S, running_panel
from tests.conftest import empty_postgres, own_database

__all__ = ["ADMIN_PASSWORD", "CHROMIUM", "STARTUP_TIMEOUT_S"]

ADMIN_PASSWORD = "e2e admin password"


@pytest.fixture(scope="session")
def panel_process(tmp_path_factory):
    """The running panel (its db_url and container_prefix too), admin password ADMIN_PASSWORD."""
    workdir = tmp_path_factory.mktemp("panel")
    with running_panel(workdir, ADMIN_PASSWORD, _panel_settings()) as running:
        yield running


def _panel_settings(database: str | None = None) -> dict[str, str]:
    """Fast sampling; every browser test signs up from 127.0.0.1, so the per-IP signup limit
    is raised (the throttle has tests of its own). In the second CI run: PostgreSQL, Redis and
    several workers; a panel other than the session's names a `database` of its own, since its
    start empties it."""
    settings = {"SAAS_PANEL_METRICS_INTERVAL": "1", "SAAS_PANEL_SIGNUP_IP_LIMIT": "10000", "SAAS_PANEL_SIGNUP_GLOBAL_LIMIT": "10000",
                # The culler checks every 2 s (its 60 min timeout is left alone: tests age their own app).
                "SAAS_PANEL_IDLE_CHECK_SECONDS": "2"}
    postgres_url = os.environ.get("SAAS_PANEL_TEST_E2E_DB_URL")
    if postgres_url:
        settings.update(
            REFLEX_DB_URL=empty_postgres(own_database(postgres_url, database) if database else postgres_url),
            REFLEX_REDIS_URL=os.environ["SAAS_PANEL_TEST_REDIS_URL"],
            GRANIAN_WORKERS="3",
        )
    return settings


@pytest.fixture(scope="session")
def panel(panel_process):
    """Base URL of a running panel whose admin password is ADMIN_PASSWORD."""
    return panel_process.base_url


@pytest.fixture
def page(browser, panel, request):
    context = browser.new_context(base_url=panel, viewport={"width": 1200, "height": 800})
    context.set_default_timeout(20_000)
    page = context.new_page()
    console = request.node.stash[BROWSER_CONSOLE] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("requestfailed", lambda failed: console.append(f"request failed: {failed.method} {failed.url} {failed.failure}"))
    yield page
    context.close()


BROWSER_CONSOLE = pytest.StashKey[list]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed browser test carries what the panel, the edge and the page said (CI keeps no files)."""
    report = yield
    if report.failed:
        panel = getattr(item, "funcargs", {}).get("panel_process")
        if panel is not None:
            report.sections.append(("panel log (tail)", panel.log_tail(6000)))
            edge_log = panel.workdir / "edge.log"
            report.sections.append(("edge log (tail)", edge_log.read_text(errors="replace")[-4000:] if edge_log.exists() else ""))
        report.sections.append(("browser console", "\n".join(item.stash.get(BROWSER_CONSOLE, [])[-60:])))
    return report
