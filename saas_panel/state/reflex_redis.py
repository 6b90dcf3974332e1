"""Reflex's Redis subscribers, started again after a Redis outage.

With Redis, each worker follows three Redis subscriptions: lock releases (the state manager),
socket-record changes, and the "lost and found" channel that carries the updates another worker
publishes for the tabs connected here (the token manager). Reflex retries each one five times
within a minute and then lets it end; it starts one again only when a lock is taken or a new tab
connects (reflex-dev/reflex#3505). After Redis is away for more than a few seconds, the tabs
already open on a worker would no longer get what the collector's worker publishes: their
dashboards would freeze until a reload. This task starts again any subscriber that has ended.
"""

from __future__ import annotations

import asyncio
import logging

import reflex as rx
from reflex.istate.manager.redis import StateManagerRedis
from reflex.utils.token_manager import RedisTokenManager

log = logging.getLogger(__name__)

CHECK_INTERVAL_S = 2.0


def _ended(owner: object, task_attribute: str) -> bool:
    task = getattr(owner, task_attribute, None)
    return task is not None and task.done()


def restart_ended_subscribers(app: rx.App) -> list[str]:
    """Start again the subscribers of this worker that have ended; returns their names."""
    namespace = app.event_namespace
    token_manager = namespace._token_manager if namespace is not None else None
    state_manager = app.state_manager
    restarted = []
    if isinstance(token_manager, RedisTokenManager):
        if _ended(token_manager, "_lost_and_found_task"):
            token_manager.ensure_lost_and_found_task(namespace.emit_update)
            restarted.append("lost and found")
        if _ended(token_manager, "_socket_record_task"):
            token_manager._ensure_socket_record_task()
            restarted.append("socket records")
    if isinstance(state_manager, StateManagerRedis) and _ended(state_manager, "_lock_task"):
        state_manager._ensure_lock_task()
        restarted.append("lock releases")
    return restarted


async def keeping_reflex_subscribed(app: rx.App) -> None:
    """Lifespan task of every worker (a no-op without Redis)."""
    while True:
        await asyncio.sleep(CHECK_INTERVAL_S)
        try:
            restarted = restart_ended_subscribers(app)
        except Exception:  # noqa: BLE001 - checked again next round
            log.exception("could not restart Reflex's Redis subscribers")
            continue
        if restarted:
            log.warning("Reflex's Redis subscribers had ended (Redis was away); started again: %s", ", ".join(restarted))
