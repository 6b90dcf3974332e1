"""An admin creates an API token in the UI, sees it once, uses it, and revokes it.

The raw token is pushed to the browser's memory only (never a state var): once the
dialog is closed, or the page reopened or reloaded, it is nowhere in the page.
"""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid

from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD
from tests.e2e.helpers import reload_when_ready, submit_when_ready


def _status(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _open_tokens(page) -> None:
    submit_when_ready(page, "/login", {"username": "admin", "password": ADMIN_PASSWORD}, "#login-submit")
    page.wait_for_url("**/admin**")
    page.click("#admin-nav-tokens")
    page.wait_for_url("**/admin/tokens**")


def _create(page, name: str) -> str:
    """Create a read token named `name`; the raw token its dialog shows."""
    page.click("#new-token")
    page.fill("#token-name", name)
    page.fill("#token-days", "7")
    page.click("#token-submit")
    shown = page.locator("#new-token-value")
    expect(shown).to_contain_text("spk_")
    return shown.inner_text().strip()


def _gone_from_page(page, name: str, token: str) -> None:
    expect(page.locator(f"#token-row-{name}")).to_be_visible()
    expect(page.locator("#new-token-value")).to_have_count(0)
    assert token not in page.content()


def test_admin_creates_uses_and_revokes_a_token(page, panel):
    _open_tokens(page)
    name = f"ci-{uuid.uuid4().hex[:8]}"
    token = _create(page, name)
    assert _status(f"{panel}/api/users", token) == 200
    page.click("#token-done")
    _gone_from_page(page, name, token)

    row = page.locator(f"#token-row-{name}")
    expect(row).to_contain_text("active")
    expect(row).to_contain_text("read")

    reload_when_ready(page)
    _gone_from_page(page, name, token)

    page.click(f"#revoke-{name}")
    page.click(f"#confirm-revoke-{name}")
    expect(row).to_contain_text("revoked")
    assert _status(f"{panel}/api/users", token) == 401


def test_a_token_left_on_screen_is_not_shown_again(page, panel):
    """Without pressing Done: a reload (the session's state is kept server-side) or leaving and
    coming back must not bring the token back."""
    _open_tokens(page)
    left = f"ci-{uuid.uuid4().hex[:8]}"
    token = _create(page, left)
    page.go_back()  # an in-app navigation: the page's memory survives it
    page.wait_for_url("**/admin")
    page.click("#admin-nav-tokens")
    page.wait_for_url("**/admin/tokens**")
    _gone_from_page(page, left, token)

    reloaded = f"ci-{uuid.uuid4().hex[:8]}"
    token = _create(page, reloaded)
    reload_when_ready(page)
    _gone_from_page(page, reloaded, token)
