"""An admin defines an alert rule with a webhook in the UI (its secret shown once), edits and deletes it;
a metrics token made in the UI scrapes /metrics through the edge."""

from __future__ import annotations

import urllib.request
import uuid

from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD
from tests.e2e.helpers import reload_when_ready, submit_when_ready


def _log_in(page) -> None:
    submit_when_ready(page, "/login", {"username": "admin", "password": ADMIN_PASSWORD}, "#login-submit")
    page.wait_for_url("**/admin**")


def _choose(page, trigger: str, option: str) -> None:
    page.click(trigger)
    page.get_by_role("option", name=option).click()


def test_admin_creates_edits_and_deletes_an_alert_rule(page, panel):
    _log_in(page)
    page.click("#admin-nav-alerts")
    page.wait_for_url("**/admin/alerts**")
    name = f"mem-{uuid.uuid4().hex[:6]}"
    page.click("#new-rule")
    page.fill("#rule-name", name)
    _choose(page, "#rule-metric", "Memory (% of the limit)")
    page.fill("#rule-threshold", "85")
    page.fill("#rule-for", "120")
    page.fill("#rule-webhook", "https://hooks.example/alerts?token=hidden-token")
    page.click("#rule-submit")
    shown = page.locator("#new-webhook-secret")
    expect(shown).not_to_be_empty()
    secret = shown.inner_text().strip()
    assert len(secret) >= 40
    page.click("#secret-done")

    row = page.locator(f"#rule-row-{name}")
    expect(row).to_contain_text("memory > 85% for 120 s")
    expect(row).to_contain_text("hooks.example")
    reload_when_ready(page)
    expect(row).to_be_visible()
    assert secret not in page.content() and "hidden-token" not in page.content()

    page.click(f"#edit-rule-{name}")
    expect(page.locator("#rule-threshold")).to_have_value("85")
    page.fill("#rule-threshold", "95")
    page.click("#rule-save")
    expect(row).to_contain_text("memory > 95% for 120 s")
    expect(row).to_contain_text("hooks.example")  # a blank URL keeps the webhook

    page.click(f"#delete-rule-{name}")
    page.click(f"#confirm-delete-rule-{name}")
    expect(row).to_have_count(0)


def test_a_metrics_token_made_in_the_ui_scrapes_metrics_through_the_edge(page, panel):
    _log_in(page)
    page.click("#admin-nav-tokens")
    page.wait_for_url("**/admin/tokens**")
    page.click("#new-token")
    page.fill("#token-name", f"prometheus-{uuid.uuid4().hex[:6]}")
    _choose(page, "#token-scope", "Metrics: GET /metrics only (Prometheus)")
    page.click("#token-submit")
    expect(page.locator("#new-token-value")).to_contain_text("spk_")
    token = page.locator("#new-token-value").inner_text().strip()
    request = urllib.request.Request(f"{panel}/metrics", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read().decode()
    assert response.status == 200
    assert "saas_panel_containers{" in body and "saas_panel_login_failures_total" in body
    assert "saas_panel_websocket_clients " in body  # this page's own socket counts
