"""An admin makes a plan on the user image, then moves a new user onto it from the users table;
the user's timeline says their plan was changed."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from saas_panel.config import get_settings
from tests.e2e.conftest import ADMIN_PASSWORD
from tests.e2e.helpers import log_in, log_out, open_when_ready, sign_up_until_running

IMAGE_CHECK_TIMEOUT_MS = 60_000  # a trial container of the image must answer
RECREATE_TIMEOUT_MS = 90_000  # the new container must answer before the old one goes


def _choose(page, menu: str, option: str) -> None:
    page.click(menu)
    page.get_by_role("option", name=option, exact=True).click()


def _create_plan(page, plan: str) -> None:
    open_when_ready(page, "/admin/plans")
    expect(page.locator("#admin-plans-heading")).to_be_visible()
    page.click("#new-plan")
    page.fill("#plan-name", plan)
    _choose(page, "#plan-image", get_settings().user_image)
    page.fill("#plan-mem_limit_mb", "160")
    page.click("#plan-submit")
    row = page.locator(f"#plan-row-{plan}")
    expect(row).to_contain_text("160 MB", timeout=IMAGE_CHECK_TIMEOUT_MS)
    expect(row).to_contain_text(get_settings().user_image)


def _move_to(page, username: str, plan: str) -> None:
    open_when_ready(page, "/admin/users")
    page.fill("#user-search", username)
    row = page.locator(f"#user-row-{username}")
    expect(row).to_contain_text("Standard")
    page.click(f"#change-plan-{username}")
    _choose(page, "#change-plan-select", plan)
    page.click("#change-plan-submit")
    expect(page.get_by_text(f"{username} is now on {plan}", exact=False)).to_be_visible(timeout=RECREATE_TIMEOUT_MS)
    expect(row).to_contain_text(plan)


def test_admin_moves_a_user_to_a_new_plan(page):
    plan, username = f"roomy-{uuid.uuid4().hex[:6]}", f"p{uuid.uuid4().hex[:10]}"
    log_in(page, "admin", ADMIN_PASSWORD)
    page.wait_for_url("**/admin**")
    _create_plan(page, plan)
    log_out(page)

    sign_up_until_running(page, username)
    log_out(page)

    log_in(page, "admin", ADMIN_PASSWORD)
    page.wait_for_url("**/admin**")
    _move_to(page, username, plan)
    log_out(page)

    log_in(page, username, "e2e user password")
    page.wait_for_url("**/dashboard**")
    expect(page.locator("#container-status")).to_have_text("running", timeout=RECREATE_TIMEOUT_MS)
    expect(page.locator("#activity-timeline")).to_contain_text("change plan")
