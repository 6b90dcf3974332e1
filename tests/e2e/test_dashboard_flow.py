"""A new user's container appears on their dashboard and answers."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.e2e.helpers import sign_up

PROVISION_TIMEOUT_MS = 60_000


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
    page.goto("/dashboard")
    expect(page.locator("#container-status")).to_have_text("running")

    page.click("#container-stop")
    expect(page.locator("#container-status")).to_have_text("stopped", timeout=20_000)
    page.click("#container-start")
    expect(page.locator("#container-status")).to_have_text("running", timeout=20_000)

    page.click("#delete-account")
    page.fill("#delete-password", "not my password")
    page.click("#confirm-delete")
    expect(page.get_by_text("The password is not right")).to_be_visible()
    assert "/dashboard" in page.url
    page.fill("#delete-password", "e2e user password")
    page.click("#confirm-delete")
    page.wait_for_url("**/login**")
