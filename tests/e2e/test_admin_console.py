"""The admin finds a new user, stops their container, and sees it in the activity log."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD
from tests.e2e.helpers import log_in, log_out, sign_up

PROVISION_TIMEOUT_MS = 60_000


def test_admin_stops_a_users_container_and_sees_it_logged(page):
    name = f"a{uuid.uuid4().hex[:10]}"
    sign_up(page, name)
    page.wait_for_url("**/dashboard**")
    expect(page.locator("#container-status")).to_have_text("running", timeout=PROVISION_TIMEOUT_MS)
    log_out(page)

    log_in(page, "admin", ADMIN_PASSWORD)
    page.wait_for_url("**/admin**")
    expect(page.locator("#admin-heading")).to_be_visible()

    page.click("#admin-nav-users")
    page.wait_for_url("**/admin/users**")
    page.fill("#user-search", name[:8].upper())
    expect(page.locator("#table-total")).to_have_text("1 users")
    row = page.locator(f"#user-row-{name}")
    expect(row).to_contain_text(f"{name}@example.com")
    expect(row).to_contain_text("running")

    page.click("#admin-nav-containers")
    page.wait_for_url("**/admin/containers**")
    page.fill("#container-search", name)
    expect(page.locator("#table-total")).to_have_text("1 containers")
    expect(page.locator(f"#state-{name}")).to_have_text("running")
    page.click(f"#stop-{name}")
    page.click(f"#confirm-stop-{name}")
    expect(page.locator(f"#state-{name}")).to_have_text("stopped", timeout=20_000)
    expect(page.get_by_text("stopped.", exact=False).first).to_be_visible()

    page.click("#admin-nav-activity")
    page.wait_for_url("**/admin/activity**")
    page.fill("#activity-search", name)
    stop_row = page.locator("tbody tr", has_text="stop").filter(has_text=name)
    expect(stop_row.first).to_be_visible()
    expect(stop_row.first).to_contain_text("admin")
    expect(stop_row.first).to_contain_text("success")
