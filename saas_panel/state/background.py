"""Work that outlives the event that started it (signup hands provisioning here), and housekeeping."""

from __future__ import annotations

import asyncio
import logging

from reflex_base.registry import RegistrationContext

from saas_panel.config import get_settings
from saas_panel.errors import DomainError, EngineUnavailable
from saas_panel.services import activity, auth, coordination, idle, metrics, provisioning, recovery, throttle, users

log = logging.getLogger(__name__)
_in_flight: dict[str, asyncio.Task] = {}


def provision_in_background(username: str, *, actor: str, ip: str | None = None) -> None:
    """Start provisioning on a worker thread; failures land in the container row and the log."""
    if username in _in_flight:
        return

    async def _run() -> None:
        try:
            await asyncio.to_thread(provisioning.provision, username, actor=actor, ip=ip)
        except DomainError as exc:
            log.warning("provisioning %s failed: %s", username, exc)
        except Exception:  # noqa: BLE001 - a background task must never die silently
            log.exception("provisioning %s crashed", username)
        finally:
            _in_flight.pop(username, None)

    _in_flight[username] = asyncio.get_running_loop().create_task(_run())


async def abandon_signup(username: str) -> None:
    """Delete an account whose signup could not be completed, once its provisioning has ended
    (if the database is away, recovery deletes it at the next start)."""
    task = _in_flight.get(username)
    if task is not None:
        await asyncio.wait({task})
    try:
        await asyncio.to_thread(users.delete_account, username, actor=activity.SYSTEM_ACTOR)
    except Exception:  # noqa: BLE001 - left marked for recovery
        log.exception("could not delete the unfinished account %s", username)


async def provisioning_settled(username: str, timeout: float) -> None:
    """Return as soon as this worker's provisioning of `username` ends, or after `timeout` (when
    another worker provisions, or nobody does)."""
    task = _in_flight.get(username)
    if task is None:
        await asyncio.sleep(timeout)
    else:
        await asyncio.wait({task}, timeout=timeout)


async def tab_connected(state) -> bool:
    """Whether the tab behind `state` still has a websocket (background work stops when it goes)."""
    namespace = RegistrationContext.get().app.event_namespace
    if namespace is None:
        return True
    return await namespace._token_manager.is_token_connected(state.router.session.client_token)


RECOVERY_RETRY_S = 2.0
RECOVERY_LEASE_TTL_S = 600.0


async def recovering() -> None:
    """Lifespan task: finish or undo what a process that died left half done (services/recovery.py).

    Each worker runs one pass when it starts, one worker at a time (a pass finding nothing is a
    list call and a few queries); while the engine or the database is down it waits and retries.
    """
    lease = coordination.collector_lease(ttl_s=RECOVERY_LEASE_TTL_S, key=recovery.LEASE_KEY)
    while True:
        try:
            if await asyncio.to_thread(lease.acquire_or_renew):
                try:
                    await asyncio.to_thread(recovery.recover)
                    return
                finally:
                    await asyncio.to_thread(lease.release)
        except EngineUnavailable:
            log.warning("recovery waits for the container engine")
        except Exception:  # noqa: BLE001 - the database or Redis is down: retried
            log.exception("recovery failed; retrying")
        await asyncio.sleep(RECOVERY_RETRY_S)


HOUSEKEEPING_INTERVAL_S = 600


def housekeep() -> None:
    """Drop what nobody needs any more: throttle rows past every window, expired sessions, and
    activity rows and metrics past the retention period."""
    settings = get_settings()
    longest = max(settings.login_window_seconds, settings.signup_window_seconds, settings.signup_global_window_seconds,
                  settings.api_window_seconds, settings.container_action_window_seconds)
    throttle.purge(longest)
    auth.purge_expired_sessions()
    purged = activity.purge(settings.activity_retention_days) + metrics.purge(settings.activity_retention_days)
    if purged:
        activity.record(activity.Action.PURGE, actor=activity.SYSTEM_ACTOR, details=f"{purged} rows past {settings.activity_retention_days} days")


async def housekeeping() -> None:
    """Lifespan task: housekeep now and every HOUSEKEEPING_INTERVAL_S."""
    while True:
        try:
            await asyncio.to_thread(housekeep)
        except Exception:  # noqa: BLE001 - retried next round
            log.exception("housekeeping failed")
        await asyncio.sleep(HOUSEKEEPING_INTERVAL_S)


async def idle_culling() -> None:
    """Lifespan task of every worker: write the edge's activity seen here, and on the worker
    holding the culler lease, stop the containers idle past SAAS_PANEL_IDLE_STOP_MINUTES."""
    lease = idle.culler_lease()
    try:
        while True:
            await asyncio.sleep(idle.check_interval_s())
            try:
                await asyncio.to_thread(idle.tick, lease)
            except Exception:  # noqa: BLE001 - retried next round (a failed flush keeps its times)
                log.exception("idle culling failed")
    finally:
        await asyncio.to_thread(idle.flush)  # a worker shutting down keeps what it saw
        await asyncio.to_thread(lease.release)
