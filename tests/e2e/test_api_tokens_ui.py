"""An admin creates an API token in the UI, sees it once, uses it, and revokes it."""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid

from playwright.sync_api import expect

from tests.e2e.conftest import ADMIN_PASSWORD
from tests.e2e.helpers import submit_when_ready


def _status(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_admin_creates_uses_and_revokes_a_token(page, panel):
    submit_when_ready(page, "/login", {"username": "admin", "password": ADMIN_PASSWORD}, "#login-submit")
    page.wait_for_url("**/admin**")
    page.click("#admin-nav-tokens")
    page.wait_for_url("**/admin/tokens**")

    name = f"ci-{uuid.uuid4().hex[:8]}"
    page.click("#new-token")
    page.fill("#token-name", name)
    page.fill("#token-days", "7")
    page.click("#token-submit")
    shown = page.locator("#new-token-value")
    expect(shown).to_contain_text("spk_")
    token = shown.inner_text().strip()
    page.click("#token-done")
    expect(shown).to_have_count(0)

    row = page.locator(f"#token-row-{name}")
    expect(row).to_contain_text("active")
    expect(row).to_contain_text("read")
    assert token not in row.inner_text()
    assert _status(f"{panel}/api/users", token) == 200

    page.click(f"#revoke-{name}")
    page.click(f"#confirm-revoke-{name}")
    expect(row).to_contain_text("revoked")
    assert _status(f"{panel}/api/users", token) == 401
