"""The first dashboard, as a person sees it in Chromium: from the Sign-up click until their new app
shows "running", and from the Log-in click until their dashboard shows it.

Setup (not timed): a real panel (devtools/panel.py, `reflex run --env prod` behind the edge) with
the production bcrypt cost, Chromium, and each form opened with its socket connected and filled in.

Each of ROUNDS rounds, in a fresh browser context (times in the page's clock, see CLICK_CLOCK):
- `signup`: t0 the click on Sign up; t1 when `#container-status` reads "running" (polled every
  POLL_MS ms). `at_dashboard_s` is about when the URL became /dashboard (the harness's poll).
- `login` (a new context, the same user): t0 the click on Log in; t1 when the dashboard shows
  "running".

Measured in the same run, the parts that cannot be avoided:
- `bcrypt_s`: one `bcrypt.hashpw` (signup) or `checkpw` (login) at the panel's cost;
- `container_s` (signup): `docker run` of the user image with the panel's options until its
  /health answers (bench_provision's raw side).
`overhead_s` is ours minus those: what the panel itself adds. Medians over ROUNDS.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import bcrypt

ROUNDS = 8
POLL_MS = 10
SIGNUP_GOAL_S = 1.0
LOGIN_GOAL_S = 0.5  # plus bcrypt
ADMIN_PASSWORD = "bench admin password"
USER_PASSWORD = "bench user password"
# Both ends are taken in the page's own clock: the click event as the browser dispatches it (not
# when the harness asks for a click: Playwright's own checks take 0.1 s) and the first poll that sees
# "running". Neither the harness nor anything in the panel adds script to the page for the app.
CLICK_CLOCK = "() => document.addEventListener('click', () => { window.__clicked = performance.now(); }, {capture: true, once: true})"


def _until_running(page) -> float:
    """Seconds from the click to "running" on the dashboard, in the page's clock."""
    from tests.e2e.helpers import wait_until_text_seen

    wait_until_text_seen(page, "#container-status", "running", timeout_ms=60_000, polling_ms=POLL_MS)
    return page.evaluate("() => (window.__seen - window.__clicked) / 1000")


def _submit(page, path: str, fields: dict[str, str], button: str) -> None:
    """Open `path` with its socket up, fill `fields`, click `button`."""
    from tests.e2e.helpers import open_when_ready

    open_when_ready(page, path)
    for field, value in fields.items():
        page.fill(f"#{field}", value)
    page.evaluate(CLICK_CLOCK)
    page.click(button)


def _sign_up(browser, base_url: str) -> tuple[str, float, float]:
    context = browser.new_context(base_url=base_url)
    try:
        page = context.new_page()
        username = f"f{uuid.uuid4().hex[:10]}"
        _submit(page, "/signup", {"username": username, "email": f"{username}@bench.example.com", "password": USER_PASSWORD}, "#signup-submit")
        page.wait_for_url("**/dashboard**", timeout=30_000)
        at_dashboard = page.evaluate("() => (performance.now() - window.__clicked) / 1000")
        return username, _until_running(page), at_dashboard
    finally:
        context.close()


def _log_in(browser, base_url: str, username: str) -> float:
    context = browser.new_context(base_url=base_url)
    try:
        page = context.new_page()
        _submit(page, "/login", {"username": username, "password": USER_PASSWORD}, "#login-submit")
        return _until_running(page)
    finally:
        context.close()


def _bcrypt_s(rounds: int) -> tuple[float, float]:
    """Medians of one hash and one check at `rounds`."""
    hashes, checks = [], []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        hashed = bcrypt.hashpw(USER_PASSWORD.encode(), bcrypt.gensalt(rounds))
        hashes.append(time.perf_counter() - started)
        started = time.perf_counter()
        bcrypt.checkpw(USER_PASSWORD.encode(), hashed)
        checks.append(time.perf_counter() - started)
    return statistics.median(hashes), statistics.median(checks)


def _container_s(panel) -> float:
    """bench_provision's raw side on the panel's network: `docker run` until /health answers."""
    from benchmarks.bench_provision import Bench
    from benchmarks.common import environment

    bench = Bench()
    network = panel.env.get("SAAS_PANEL_USER_NETWORK") or _panel_setting("user_network")
    samples = []
    with environment({"SAAS_PANEL_USER_NETWORK": network, "SAAS_PANEL_BIND_HOST": "127.0.0.1"}):
        try:
            bench.raw()  # warm-up
            for _ in range(ROUNDS):
                started = time.perf_counter()
                bench.raw()
                samples.append(time.perf_counter() - started)
        finally:
            bench.cleanup()
    return statistics.median(samples)


def _panel_setting(name: str):
    from saas_panel.config import Settings

    return getattr(Settings(), name)


def _measure(panel) -> list[dict]:
    from playwright.sync_api import sync_playwright

    from devtools.panel import launch_chromium

    signups, at_dashboard, logins = [], [], []
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            _sign_up(browser, panel.base_url)  # warm-up: the first page load compiles and caches
            for index in range(ROUNDS):
                username, signup_s, dashboard_s = _sign_up(browser, panel.base_url)
                login_s = _log_in(browser, panel.base_url, username)
                signups.append(signup_s)
                at_dashboard.append(dashboard_s)
                logins.append(login_s)
                print(f"[bench first_dashboard] round {index + 1}: signup {signup_s:.3f}s (dashboard at {dashboard_s:.3f}s), "
                      f"login {login_s:.3f}s", file=sys.stderr)
        finally:
            browser.close()
    hash_s, check_s = _bcrypt_s(_panel_setting("bcrypt_rounds"))
    container_s = _container_s(panel)
    signup, login = statistics.median(signups), statistics.median(logins)
    return [
        {"bench": "first_dashboard", "step": "signup", "ours_s": round(signup, 3), "at_dashboard_s": round(statistics.median(at_dashboard), 3),
         "bcrypt_s": round(hash_s, 3), "container_s": round(container_s, 3), "overhead_s": round(signup - hash_s - container_s, 3),
         "rounds": ROUNDS, "samples_s": [round(s, 3) for s in signups], "goal_s": SIGNUP_GOAL_S, "goal_met": signup <= SIGNUP_GOAL_S},
        {"bench": "first_dashboard", "step": "login", "ours_s": round(login, 3), "bcrypt_s": round(check_s, 3),
         "overhead_s": round(login - check_s, 3), "rounds": ROUNDS, "samples_s": [round(s, 3) for s in logins],
         "goal_s": round(LOGIN_GOAL_S + check_s, 3), "goal_met": login <= LOGIN_GOAL_S + check_s},
    ]


def run():
    from devtools.panel import running_panel

    # Every signup comes from 127.0.0.1: the signup throttles have tests of their own.
    overrides = {"SAAS_PANEL_SIGNUP_IP_LIMIT": "10000", "SAAS_PANEL_SIGNUP_GLOBAL_LIMIT": "10000"}
    with tempfile.TemporaryDirectory(prefix="saas-bench-first-") as workdir:
        with running_panel(Path(workdir), ADMIN_PASSWORD, overrides, container_prefix=f"bench-first-{uuid.uuid4().hex[:6]}-") as panel:
            results = _measure(panel)
    yield from results
