"""Signup, login, logout and role checks in a real browser."""

from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD
from tests.e2e.helpers import log_in, log_out, reload_when_ready, sign_up


def _username() -> str:
    return f"u{uuid.uuid4().hex[:10]}"


def test_signup_logout_login_reaches_dashboard(page):
    name = _username()
    sign_up(page, name, "a good password")
    page.wait_for_url("**/dashboard**")
    expect(page.locator("#dashboard-heading")).to_be_visible()
    expect(page.locator("#current-user")).to_have_text(name)
    log_out(page)
    log_in(page, name, "a good password")
    page.wait_for_url("**/dashboard**")
    expect(page.locator("#current-user")).to_have_text(name)


def test_wrong_password_shows_an_error(page):
    name = _username()
    sign_up(page, name, "a good password")
    page.wait_for_url("**/dashboard**")
    log_out(page)
    log_in(page, name, "not the password")
    expect(page.locator("#form-error")).to_have_text("Invalid username or password.")
    assert "/login" in page.url


def test_signup_rule_errors_are_shown(page):
    sign_up(page, "Bad Name", email="bad-name@example.com")
    expect(page.locator("#form-error")).to_contain_text("letters a-z")


def test_admin_login_reaches_admin(page):
    log_in(page, "admin", ADMIN_PASSWORD)
    page.wait_for_url("**/admin**")
    expect(page.locator("#admin-heading")).to_be_visible()


def test_user_opening_admin_is_turned_away(page):
    name = _username()
    sign_up(page, name)
    page.wait_for_url("**/dashboard**")
    page.goto("/admin")
    page.wait_for_url("**/dashboard**")
    expect(page.locator("#admin-heading")).to_have_count(0)


def test_logged_out_visitor_is_sent_to_login(page):
    page.goto("/dashboard")
    page.wait_for_url("**/login**")


def test_session_survives_reload_but_not_logout(page):
    name = _username()
    sign_up(page, name)
    page.wait_for_url("**/dashboard**")
    reload_when_ready(page)
    expect(page.locator("#current-user")).to_have_text(name)
    token = page.evaluate("() => window.localStorage.getItem('saas_panel_session')")
    assert token and len(token) >= 43
    log_out(page)
    assert not page.evaluate("() => window.localStorage.getItem('saas_panel_session')")


def test_phone_layout_has_no_horizontal_scroll(browser, panel):
    context = browser.new_context(base_url=panel, viewport={"width": 375, "height": 740})
    page = context.new_page()
    page.goto("/signup")
    page.wait_for_selector("#signup-submit")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    context.close()
