"""Load: how many signed-in users' live dashboards one panel holds, and a sustained signup rate.

Setup (not timed): a real panel (devtools/panel.py `running_panel`: reflex in production mode,
the edge in front) on a fresh DB, the default metrics interval (5 s), bcrypt cost 4 and the
signup limits raised (the throttle would refuse a benchmark's signups by design). A probe:
one running user container (benchmarks/fleet.py) with its user and row in the panel's DB,
so that every collector sweep stores a sample for it; that sample's timestamp is when the
sweep's numbers exist, just before they are published.

`load`, at 200 clients, then 400, 800, ... while p99 < 1 s, the page loads succeed and the time
budget allows: that many users (devtools/dashboards.py: made through the service layer in bulk;
their apps not running) each with their dashboard open in a raw tab (devtools/raw_tab.py:
Reflex's websocket protocol as a browser speaks it, through the edge): the page load's
`hydrate_and_load` with their session token, then the dashboard's on_load handlers, which link
the tab to the user's live room. Then SWEEPS sweeps are watched. Every sweep publishes each
watching user's numbers into their room, and Reflex forwards them to each tab:
- `p50_s` / `p99_s`: over every (tab, sweep), the first usage update's arrival minus the
  probe's sample time of that sweep (time.time() here, the panel's clock there: one host);
- `lost`: (tab, sweep) pairs with no update within one metrics interval (the next sweep's);
- `mem_per_client_kb`: growth of the PSS of the panel's process tree since before the first
  tab, per tab; `panel_cpu_percent`: the tree's CPU over the window (% of one core);
  `clients_cpu_percent`: this process's (the tabs share the host's 2 cores with the panel).
The summary line: `max_clients_p99_under_1s`, the most tabs held with p99 < 1 s and nothing lost.

`load signup`: SIGNERS raw tabs sign up again and again for SIGNUP_WINDOW_S (at most
MAX_SIGNUPS in all), each through the real path: the signup page's `AuthState.signup` event (user, session, then
provisioning of their container), then their dashboard opened with the new session until it
shows the app `running`. `per_minute`: sign-ups completed (app running) per minute, from the
first start to the last completion; `errors`: sign-ups refused or whose app did not run;
`to_running_p50_s` / `p99`: signup event sent -> dashboard shows running. It runs after the
dashboards, whose users still count as watching (an hour after their tabs closed): every sweep
still writes their rooms, a cost the signups share the host with.

Everything made here (the panel, its DB, containers and volumes, the probe) is removed on exit,
also on an error or Ctrl-C.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from bisect import bisect_left
from datetime import timezone
from pathlib import Path

from benchmarks.bench_capacity import memory_mb, process_tree
from benchmarks.bench_collector_cpu import cpu_seconds
from benchmarks.common import environment
from benchmarks.fleet import fleet
from devtools.dashboards import open_dashboards, sign_in_users
from devtools.raw_tab import RawTab
from saas_panel.state.auth import AuthState
from saas_panel.state.dashboard import DashboardState
from saas_panel.state.live import ContainerLive

FIRST_STEP = 200
MAX_CLIENTS = 6400
SWEEPS = 6
GOAL_P99_S = 1.0
LOAD_BUDGET_S = 540  # no new step once the load part has run this long
CONNECTS_AT_ONCE = 16
SIGNERS = 8  # the panel creates 8 containers at once (SAAS_PANEL_MAX_CONCURRENT_PROVISIONING)
SIGNUP_WINDOW_S = 60
MAX_SIGNUPS = 300  # each leaves a running app until the end: a bound on the host's memory
SIGNUP_TIMEOUT_S = 120
ADMIN_PASSWORD = "bench admin password"
USER_PASSWORD = "bench user password"
SETTINGS = {
    "SAAS_PANEL_BCRYPT_ROUNDS": "4",
    "SAAS_PANEL_SIGNUP_IP_LIMIT": "1000000",
    "SAAS_PANEL_SIGNUP_GLOBAL_LIMIT": "1000000",
}


def _log(message: str) -> None:
    print(f"[bench load] {message}", file=sys.stderr, flush=True)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# --- signups ---


class SignupFailed(RuntimeError):
    pass


async def _sign_up(base_url: str, username: str) -> float:
    """Seconds from the signup event to the dashboard showing the app running."""
    def answered(update) -> bool:
        auth = update.fields(AuthState)
        return auth.get("username") == username or bool(auth.get("form_error"))

    def settled(update) -> bool:
        return any(update.fields(cls).get("status") in ("running", "error") for cls in (DashboardState, ContainerLive))

    page = RawTab(base_url, keep=lambda update: False)
    await page.open("/signup")
    try:
        reply = page.expect(answered)
        start = time.perf_counter()
        form = {"username": username, "email": f"{username}@bench.example.com", "password": USER_PASSWORD}
        await page.emit(f"{AuthState.get_full_name()}.signup", {"form_data": form})
        auth = (await asyncio.wait_for(reply, SIGNUP_TIMEOUT_S)).fields(AuthState)
    finally:
        await page.close()
    if auth.get("form_error"):
        raise SignupFailed(auth["form_error"])
    # The browser follows the redirect to the dashboard; here, a page load with the new session.
    dashboard = RawTab(base_url, keep=lambda update: False)
    shown = dashboard.expect(settled)
    try:
        await dashboard.open("/dashboard", auth["session_token"])
        update = await asyncio.wait_for(shown, SIGNUP_TIMEOUT_S - (time.perf_counter() - start))
    finally:
        await dashboard.close()
    if any(update.fields(cls).get("status") == "error" for cls in (DashboardState, ContainerLive)):
        raise SignupFailed(f"{username}: the app did not start")
    return time.perf_counter() - start


async def _signups(base_url: str, prefix: str) -> dict:
    durations: list[float] = []
    errors: list[str] = []
    names = (f"{prefix}{number:04d}" for number in range(MAX_SIGNUPS))
    start = time.perf_counter()
    deadline = start + SIGNUP_WINDOW_S
    last_done = start

    async def signer() -> None:
        nonlocal last_done
        while time.perf_counter() < deadline and (username := next(names, None)) is not None:
            try:
                durations.append(await _sign_up(base_url, username))
            except Exception as exc:  # noqa: BLE001 - counted and shown, the run goes on
                errors.append(f"{username}: {type(exc).__name__}: {exc}")
            last_done = time.perf_counter()

    await asyncio.gather(*(signer() for _ in range(SIGNERS)))
    for error in errors[:5]:
        _log(f"signup error: {error}")
    elapsed = last_done - start
    return {
        "bench": "load signup",
        "per_minute": round(len(durations) / elapsed * 60, 1),
        "errors": len(errors),
        "signups": len(durations),
        "to_running_p50_s": round(statistics.median(durations), 3) if durations else None,
        "to_running_p99_s": round(_percentile(durations, 0.99), 3) if durations else None,
        "signers": SIGNERS,
        "window_s": round(elapsed, 1),
    }


# --- dashboards ---


def _sweep_times(probe_row_id: int, since: float, until: float) -> list[float]:
    """When each sweep between `since` and `until` stored the probe's sample (epoch seconds)."""
    from sqlmodel import select

    from saas_panel.db import session_scope
    from saas_panel.models import Metric
    from saas_panel.services.metrics import RAW

    with session_scope() as session:
        stamps = session.exec(select(Metric.ts).where(Metric.container_id == probe_row_id, Metric.resolution == RAW)).all()
    epoch = sorted((ts if ts.tzinfo else ts.replace(tzinfo=timezone.utc)).timestamp() for ts in stamps)
    return [at for at in epoch if since <= at <= until]


def _latencies(tabs, sweeps: list[float], timeout: float) -> tuple[list[float], int]:
    """Each tab's first usage update after each sweep, within `timeout`; and the (tab, sweep) pairs without one."""
    latencies, lost = [], 0
    for tab in tabs:
        arrivals = [update.at for update in tab.updates]
        for sweep in sweeps:
            index = bisect_left(arrivals, sweep)
            if index < len(arrivals) and arrivals[index] - sweep < timeout:
                latencies.append(arrivals[index] - sweep)
            else:
                lost += 1
    return latencies, lost


async def _watch_sweeps(panel, tabs, probe_row_id: int, interval: float, baseline_pss_mb: float, errors: list[str]) -> dict:
    for tab in tabs:
        tab.updates.clear()
    tree = process_tree(panel.process.pid)
    start, cpu_before, own_before = time.time(), cpu_seconds(tree), time.process_time()
    await asyncio.sleep((SWEEPS + 1) * interval)
    elapsed = time.time() - start
    sweeps = await asyncio.to_thread(_sweep_times, probe_row_id, start, time.time() - interval)
    latencies, lost = _latencies(tabs, sweeps, interval)
    _, pss = memory_mb(process_tree(panel.process.pid))
    connected = sum(tab.connected for tab in tabs)
    return {
        "bench": "load",
        "clients": connected,
        "p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "p99_s": round(_percentile(latencies, 0.99), 3) if latencies else None,
        "max_s": round(max(latencies), 3) if latencies else None,
        "lost": lost,
        "sweeps": len(sweeps),
        "mem_per_client_kb": round((pss - baseline_pss_mb) * 1024 / max(connected, 1), 1),
        "panel_pss_mb": pss,
        "panel_cpu_percent": round((cpu_seconds(tree) - cpu_before) / elapsed * 100, 1),
        "clients_cpu_percent": round((time.process_time() - own_before) / elapsed * 100, 1),
        "page_load_errors": len(errors),
    }


async def _grow(panel, tabs: list, prefix: str, target: int, errors: list[str]) -> float:
    """Sign in users and open their dashboards until `target` tabs are open; returns the seconds taken."""
    start = time.perf_counter()
    tokens = await asyncio.to_thread(sign_in_users, prefix, len(tabs) + len(errors), target - len(tabs))
    opened, failed = await open_dashboards(panel.base_url, tokens, CONNECTS_AT_ONCE)
    tabs.extend(opened)
    errors.extend(failed)
    for error in failed[:3]:
        _log(f"page load failed: {error}")
    return time.perf_counter() - start


async def _close(tabs) -> None:
    await asyncio.gather(*(tab.close() for tab in tabs), return_exceptions=True)


def _load_steps(loop, panel, probe_row_id: int, interval: float):
    tabs: list = []
    errors: list[str] = []
    prefix = f"l{uuid.uuid4().hex[:6]}"
    started = time.monotonic()
    _, baseline = memory_mb(process_tree(panel.process.pid))
    best = 0
    target = FIRST_STEP
    try:
        while target <= MAX_CLIENTS:
            took = loop.run_until_complete(_grow(panel, tabs, prefix, target, errors))
            _log(f"{len(tabs)} dashboards open ({took:.0f}s to add them), watching {SWEEPS} sweeps")
            line = loop.run_until_complete(_watch_sweeps(panel, tabs, probe_row_id, interval, baseline, errors))
            line["connect_s"] = round(took, 1)
            yield line
            held = line["p99_s"] is not None and line["p99_s"] < GOAL_P99_S and line["lost"] == 0 and not errors
            if held:
                best = line["clients"]
            step_s = time.monotonic() - started
            if not held or step_s * 2.2 > LOAD_BUDGET_S:  # the next step takes about twice this one's
                break
            target *= 2
    finally:
        loop.run_until_complete(_close(tabs))
    yield {"bench": "load", "summary": True, "max_clients_p99_under_1s": best, "goal_p99_s": GOAL_P99_S, "metrics_interval_s": interval}


def run():
    from devtools.panel import running_panel
    from saas_panel.config import get_settings
    from saas_panel.services import provisioning

    loop = asyncio.new_event_loop()
    try:
        with tempfile.TemporaryDirectory(prefix="saas-bench-load-") as workdir, running_panel(
            Path(workdir), ADMIN_PASSWORD, SETTINGS, container_prefix=f"bench-load-{uuid.uuid4().hex[:6]}-"
        ) as panel:
            panel_env = {key: panel.env[key] for key in ("REFLEX_DB_URL", "SAAS_PANEL_CONTAINER_PREFIX", *SETTINGS)}
            with environment(panel_env), fleet(1, tag="load") as probe:
                probe.add_to_database()
                probe_row_id = provisioning.container_row_id(probe.names[0][-32:])
                interval = get_settings().metrics_interval
                time.sleep(2 * interval)  # the probe sampled, the panel settled
                yield from _load_steps(loop, panel, probe_row_id, interval)
                _log(f"signing up for {SIGNUP_WINDOW_S}s")
                yield loop.run_until_complete(_signups(panel.base_url, f"s{uuid.uuid4().hex[:6]}"))
    finally:
        loop.close()
