"""How many browser tabs are connected to the panel's websocket, across every worker."""

from __future__ import annotations

import reflex as rx


async def connected_clients(app: rx.App) -> int | None:
    """Connected clients as Reflex's token manager knows them (with Redis: every worker's, from
    Redis; without: this one worker's, which is all of them); None before the app serves sockets."""
    namespace = app.event_namespace
    if namespace is None:
        return None
    # Reflex exposes no public count; its token manager is the one place that sees every worker.
    return sum([1 async for _ in namespace._token_manager.enumerate_tokens()])
