"""Many signed-in users with their dashboard open, each in a raw tab (devtools/raw_tab.py): load
benchmarks and tests, without a browser per user.

The users are made through the service layer, in bulk, not through the signup page:
`auth.register` (what signup runs) and `auth.start_session` (what login runs once the
password is checked), so each holds a real session token. Signing up thousands through the
page would also provision thousands of containers, which is the signup benchmark's subject,
not the dashboards'. Each user gets a container row whose app is gone (state `missing`, no
engine container): the dashboard loads as for any user with an app (the engine is asked for
it), nothing gets provisioned, and the collector has nothing to reconcile.

The calling process must use the panel's database (REFLEX_DB_URL) and container prefix.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from devtools.raw_tab import RawTab, Update
from saas_panel.state.live import ContainerLive

PASSWORD = "load user password"
DASHBOARD = "/dashboard"


def sign_in_users(prefix: str, first: int, count: int) -> list[str]:
    """Users `<prefix><first>` .. `<prefix><first+count-1>`, signed in; returns their session tokens."""
    from saas_panel.db import session_scope
    from saas_panel.models import Container, ContainerState
    from saas_panel.services import auth, provisioning

    tokens, rows = [], []
    for number in range(first, first + count):
        username = f"{prefix}{number:05d}"
        user = auth.register(username, f"{username}@load.example.com", PASSWORD)
        tokens.append(auth.start_session(user))
        rows.append(Container(user_id=user.id, name=provisioning.container_name(username), image="gone", state=ContainerState.MISSING.value))
    with session_scope() as session:
        session.add_all(rows)
    return tokens


def is_usage(update: Update) -> bool:
    """A collector sweep's numbers for this user (the live room's usage fields)."""
    return "cpu_percent" in update.fields(ContainerLive)


def is_joined(update: Update) -> bool:
    """The tab was linked to its user's live room: the whole room arrives, its series and the
    app's status included (the page load's first snapshot has the series too, but no status)."""
    room = update.fields(ContainerLive)
    return "series" in room and bool(room.get("status"))


async def open_dashboard(base_url: str, session_token: str, timeout: float = 120) -> RawTab:
    """A tab on the dashboard, once its on_load handlers have linked it to the user's live room;
    it keeps only usage updates."""
    tab = RawTab(base_url, keep=is_usage)
    joined = tab.expect(is_joined)
    try:
        async with asyncio.timeout(timeout):
            await tab.open(DASHBOARD, session_token, timeout)
            await joined
    except BaseException:
        await tab.close()
        raise
    return tab


async def open_dashboards(base_url: str, session_tokens: Sequence[str], concurrency: int = 16) -> tuple[list[RawTab], list[str]]:
    """One dashboard tab per token, `concurrency` page loads at a time; returns (open tabs, errors)."""
    gate = asyncio.Semaphore(concurrency)

    async def one(token: str) -> RawTab:
        async with gate:
            return await open_dashboard(base_url, token)

    results = await asyncio.gather(*(one(token) for token in session_tokens), return_exceptions=True)
    tabs = [result for result in results if isinstance(result, RawTab)]
    errors = [f"{type(result).__name__}: {result}" for result in results if isinstance(result, BaseException)]
    return tabs, errors
