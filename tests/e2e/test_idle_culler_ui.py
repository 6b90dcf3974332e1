"""The idle culler stops an app nobody visits, and its owner sees why.

The panel checks every 2 s with the normal 60-minute timeout; this test ages its own
app in the database instead of waiting an hour, so the other tests' apps are untouched.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from playwright.sync_api import expect
from sqlmodel import select

from saas_panel.db import session_scope
from saas_panel.models import Container, User, utcnow
from tests.e2e.helpers import reload_when_ready, sign_up_until_running


def _age_app(username: str, by: timedelta) -> None:
    with session_scope() as session:
        row = session.exec(select(Container).join(User, User.id == Container.user_id).where(User.username == username)).one()
        row.started_at = row.last_activity_at = utcnow() - by


def _row_of(username: str) -> dict:
    with session_scope() as session:
        row = session.exec(select(Container).join(User, User.id == Container.user_id).where(User.username == username)).one()
        return {"state": row.state, "started_at": row.started_at, "last_activity_at": row.last_activity_at, "now": utcnow()}


def test_an_app_nobody_visits_is_stopped_and_the_owner_is_told(page, panel_process, monkeypatch):
    monkeypatch.setenv("REFLEX_DB_URL", panel_process.db_url)
    name = f"i{uuid.uuid4().hex[:10]}"
    sign_up_until_running(page, name)
    # The page's own status reads may still write the real start time back: age it until culled.
    deadline = time.monotonic() + 90
    while page.locator("#container-status").inner_text().strip() != "stopped" and time.monotonic() < deadline:
        _age_app(name, timedelta(minutes=61))
        page.wait_for_timeout(2000)
    assert _row_of(name)["state"] == "stopped", f"not culled: {_row_of(name)}"
    expect(page.locator("#container-status")).to_have_text("stopped")
    reload_when_ready(page)
    expect(page.locator("#activity-timeline")).to_contain_text("system idle stop")
