"""A new user's container appears on their dashboard and answers."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.e2e.helpers import open_when_ready, sign_up

PROVISION_TIMEOUT_MS = 60_000


def _act_until(page, button: str, state: str) -> None:
    """Click `button` until the status reads `state`: under load (three workers on two cores) a
    click right after a navigation can land before the tab's events are wired."""
    status = page.locator("#container-status")
    for _ in range(3):
        if status.inner_text().strip() == state:
            return
        if page.locator(button).is_enabled():
            page.click(button)
        try:
            expect(status).to_have_text(state, timeout=10_000)
            return
        except AssertionError:
            continue
    expect(status).to_have_text(state)


def test_signup_shows_a_running_container_whose_app_answers(page):
    name = f"d{uuid.uuid4().hex[:10]}"
    sign_up(page, name)
    page.wait_for_url("**/dashboard**")
    expect(page.locator("#container-status")).to_have_text("running", timeout=PROVISION_TIMEOUT_MS)
    href = page.locator("#open-app").get_attribute("href")
    assert href and href.startswith(f"http://{name}.apps.localhost:")
    page.goto(href)  # through the edge, with the panel's hand-off
    page.wait_for_url(f"{href}**")
    expect(page.locator("body")).to_contain_text(name)
    open_when_ready(page, "/dashboard")
    expect(page.locator("#container-status")).to_have_text("running")

    _act_until(page, "#container-stop", "stopped")
    _act_until(page, "#container-start", "running")

    page.click("#delete-account")
    page.fill("#delete-password", "not my password")
    page.click("#confirm-delete")
    expect(page.get_by_text("The password is not right")).to_be_visible()
    assert "/dashboard" in page.url
    page.fill("#delete-password", "e2e user password")
    page.click("#confirm-delete")
    page.wait_for_url("**/login**")
