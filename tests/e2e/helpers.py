"""Small steps shared by browser tests."""

from __future__ import annotations


def sign_up(page, username: str, password: str = "e2e user password", email: str | None = None) -> None:
    submit_when_ready(page, "/signup", {"username": username, "email": email or f"{username}@example.com", "password": password}, "#signup-submit")


POINT_SELECTOR = "#cpu-chart .recharts-area-curve"  # the dashboard's CPU curve: its path changes with each new point


def sign_up_until_running(page, username: str) -> None:
    """Sign up and wait on the dashboard until the new container runs."""
    from playwright.sync_api import expect

    sign_up(page, username)
    page.wait_for_url("**/dashboard**")
    expect(page.locator("#container-status")).to_have_text("running", timeout=60_000)


def log_in(page, username: str, password: str) -> None:
    submit_when_ready(page, "/login", {"username": username, "password": password}, "#login-submit")


def _with_socket(page, navigate, timeout_ms: int) -> bool:
    """Navigate and wait for the page's socket; False when none opened in time."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        with page.expect_websocket(timeout=timeout_ms):
            navigate()
    except PlaywrightTimeout:
        return False
    return True


def open_when_ready(page, path: str) -> None:
    """Navigate and wait for the page's socket: a click before React attaches its handlers is lost.
    A page whose scripts never opened one is loaded once more (a slow machine can stall a script load)."""
    if not _with_socket(page, lambda: page.goto(path), 15_000):
        reload_when_ready(page)


def reload_when_ready(page) -> None:
    """Reload and wait for the page's socket, reloading once more if its scripts stalled."""
    if not _with_socket(page, page.reload, 15_000):
        with page.expect_websocket(timeout=30_000):
            page.reload()


def enter_app(page, app_url: str) -> None:
    """Go to an app through the panel's /open hand-off (a page that needs its socket) and land in it."""
    open_when_ready(page, app_url)
    page.wait_for_url(f"{app_url}**", timeout=60_000)


def log_out(page) -> None:
    page.click("#logout")
    page.wait_for_url("**/login**")


def submit_when_ready(page, path: str, fields: dict, button: str) -> None:
    """Fill and send a form once the page's socket is up, so React (not a native GET) handles the submit."""
    open_when_ready(page, path)
    for field, value in fields.items():
        page.fill(f"#{field}", value)
    page.click(button)


# The first poll that sees the text: `__seen` in the page's own clock (performance.now(), to time
# against another page event) and `__seenAt` in epoch milliseconds (Date.now(), this host's clock).
TEXT_SEEN = """([sel, want]) => {
    const el = document.querySelector(sel);
    if (!el || el.innerText.trim() !== want) return false;
    if (window.__seen === undefined) { window.__seen = performance.now(); window.__seenAt = Date.now(); }
    return true;
}"""


def wait_until_text_seen(page, selector: str, want: str, timeout_ms: int = 30_000, polling_ms: int = 10) -> None:
    """Wait, polling every `polling_ms` in the page, until `selector` reads `want`; the page records
    when it first did (see TEXT_SEEN). One timing per page: a second call reads the first's times."""
    page.wait_for_function(TEXT_SEEN, arg=[selector, want], polling=polling_ms, timeout=timeout_ms)
