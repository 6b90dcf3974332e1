"""Many dashboards open at once, each a signed-in user in a raw websocket tab (devtools/dashboards.py,
as the load benchmark drives them): every tab receives every sweep's numbers, none is lost."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from devtools.dashboards import open_dashboards, sign_in_users
from tests.handlers import run

pytestmark = pytest.mark.engine

TABS = 40
SWEEPS = 3  # the tests' panel sweeps every second
WAIT_S = 90


async def _sweeps_received(base_url: str, tokens: list[str]) -> list[int]:
    """How many usage updates each tab received while it waited for SWEEPS of them (or WAIT_S)."""
    tabs, errors = await open_dashboards(base_url, tokens)
    try:
        assert errors == []
        for tab in tabs:
            tab.updates.clear()  # from now on: sweeps that find every tab open

        async def all_received() -> None:
            while any(len(tab.updates) < SWEEPS for tab in tabs):
                await asyncio.sleep(0.2)

        try:
            await asyncio.wait_for(all_received(), WAIT_S)
        except TimeoutError:
            pass
        return [len(tab.updates) for tab in tabs]
    finally:
        await asyncio.gather(*(tab.close() for tab in tabs))


def test_every_open_dashboard_receives_every_sweep(panel_process, monkeypatch):
    monkeypatch.setenv("REFLEX_DB_URL", panel_process.db_url)
    monkeypatch.setenv("SAAS_PANEL_CONTAINER_PREFIX", panel_process.container_prefix)
    monkeypatch.setenv("SAAS_PANEL_BCRYPT_ROUNDS", "4")
    monkeypatch.setenv("SAAS_PANEL_SIGNUP_GLOBAL_LIMIT", "10000")  # as the panel's: the browser tests sign up too
    tokens = sign_in_users(f"lt{uuid.uuid4().hex[:6]}", 0, TABS)

    received = run(_sweeps_received(panel_process.base_url, tokens))  # not asyncio.run: a browser test may own this thread's loop

    assert len(received) == TABS
    assert min(received) >= SWEEPS, sorted(received)
