"""Small steps shared by browser tests."""

from __future__ import annotations


def sign_up(page, username: str, password: str = "e2e user password", email: str | None = None) -> None:
    page.goto("/signup")
    page.fill("#username", username)
    page.fill("#email", email or f"{username}@example.com")
    page.fill("#password", password)
    page.click("#signup-submit")


def log_in(page, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")


def log_out(page) -> None:
    page.click("#logout")
    page.wait_for_url("**/login**")


def submit_when_ready(page, path: str, fields: dict, button: str) -> None:
    """Fill and send a form once the page's socket is up, so React (not a native GET) handles the submit."""
    with page.expect_websocket():
        page.goto(path)
    for field, value in fields.items():
        page.fill(f"#{field}", value)
    page.click(button)
