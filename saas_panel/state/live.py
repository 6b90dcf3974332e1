"""Live data pushed to open pages by the one collector of this deployment.

The collector is a lifespan task (one per backend process), not a poller per
tab: each sweep writes into shared states, and Reflex fans the change out to
every linked tab. Admins link to one platform room; each user links to a room
of their own, so nobody receives another user's numbers, and the cost grows
with the users watching, not with their tabs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
from datetime import timedelta

import reflex as rx

from saas_panel.config import get_settings
from saas_panel.errors import EngineUnavailable
from saas_panel.runtime import get_runtime
from saas_panel.services import activity, auth, coordination, metrics, provisioning
from saas_panel.services.monitor import Collector, Snapshot
from saas_panel.state.auth import AuthState
from saas_panel.state.rooms import PLATFORM, enter_room, room_token, user_room

log = logging.getLogger(__name__)

PLATFORM_WINDOW = timedelta(hours=1)
USER_WINDOW = timedelta(hours=1)
EVENT_RETRY_S = 1.0
LEASE_MIN_TTL_S = 10.0
MB = 1024 * 1024
TIMELINE_LENGTH = 20
MAX_ORPHANS_SHOWN = 20


@functools.cache
def watchers():
    """Users with a dashboard open (shared between workers when Redis is configured)."""
    return coordination.dashboard_watchers()


def _chart_points(points: list[metrics.Point]) -> list[dict]:
    return [{"t": p.ts.strftime("%H:%M:%S"), "cpu": p.cpu_percent, "mem_mb": round(p.mem_bytes / MB, 1)} for p in points]


async def load_timeline(username: str) -> list[dict]:
    rows = await asyncio.to_thread(activity.timeline, username, TIMELINE_LENGTH)
    return [dataclasses.asdict(row) for row in rows]


async def _session_user(state: rx.State):
    auth_state = await state.get_state(AuthState)
    return await asyncio.to_thread(auth.resolve_session, auth_state.session_token)


class PlatformLive(rx.SharedState):
    engine_ok: bool = True
    series: list[dict] = []
    by_state: dict[str, int] = {}
    top: list[dict] = []
    orphans: list[str] = []
    orphan_count: int = 0
    running: int = 0
    cpu_percent: float = 0.0
    mem_mb: float = 0.0
    updated: str = ""

    @rx.event
    async def join(self):
        user = await _session_user(self)
        if user is not None and user.is_admin:
            await enter_room(self, PLATFORM)


class ContainerLive(rx.SharedState):
    engine_ok: bool = True
    status: str = ""
    series: list[dict] = []
    timeline: list[dict] = []
    cpu_percent: float = 0.0
    mem_mb: float = 0.0
    updated: str = ""

    @rx.event
    async def join(self):
        user = await _session_user(self)
        if user is None:
            return
        if self._linked_to != room_token(user_room(user.username)):
            await asyncio.to_thread(watchers().add, user.username)
            linked = await enter_room(self, user_room(user.username))
            await linked._fill(user.username)

    async def _fill(self, username: str) -> None:
        view = await asyncio.to_thread(provisioning.status, username)
        row_id = await asyncio.to_thread(provisioning.container_row_id, username)
        self.status = view.state if view else ""
        self.timeline = await load_timeline(username)
        self.series = _chart_points(await asyncio.to_thread(metrics.container_series, row_id, USER_WINDOW)) if row_id else []



LIVE_ROOMS = (PlatformLive, ContainerLive)  # a tab leaves every one of them at logout


class LivePublisher:
    """Writes collector results into the shared rooms."""

    def __init__(self, app):
        self.app = app

    async def _edit(self, room: str, cls, edit) -> None:
        token = room_token(room)
        async with self.app.modify_state(rx.BaseStateToken(ident=token, cls=cls)) as state:
            target = state if isinstance(state, cls) else await state.get_state(cls)
            edit(target)

    async def platform(self, snapshot: Snapshot | None, series: list[metrics.Point]) -> None:
        def edit(state: PlatformLive) -> None:
            state.engine_ok = snapshot is not None
            if snapshot is None:
                return
            state.series = _chart_points(series)
            state.by_state = snapshot.by_state
            state.running = len(snapshot.containers)
            state.cpu_percent = snapshot.cpu_percent
            state.mem_mb = round(snapshot.mem_bytes / MB, 1)
            state.top = [
                {"owner": c.owner or c.name, "cpu": c.cpu_percent, "mem_mb": round(c.mem_bytes / MB, 1)}
                for c in snapshot.top(10)
            ]
            state.orphans = snapshot.orphans[:MAX_ORPHANS_SHOWN]
            state.orphan_count = len(snapshot.orphans)
            state.updated = snapshot.at.strftime("%H:%M:%S UTC")

        await self._edit(PLATFORM, PlatformLive, edit)

    async def user_status(self, username: str, status: str) -> None:
        if username not in await asyncio.to_thread(watchers().current):
            return
        timeline = await load_timeline(username)

        def edit(state: ContainerLive) -> None:
            state.status = status
            state.timeline = timeline

        await self._edit(user_room(username), ContainerLive, edit)

    async def users(self, snapshot: Snapshot | None) -> None:
        usage = {c.owner: c for c in snapshot.containers} if snapshot else {}
        for username in await asyncio.to_thread(watchers().current):
            current = usage.get(username)

            # Usage only: a sweep read before a stop may be published after it, so the status
            # comes from engine events and the panel's own actions, never from here.
            def edit(state: ContainerLive, current=current) -> None:
                state.engine_ok = snapshot is not None
                if snapshot is None:
                    return
                if current is None:
                    state.cpu_percent = 0.0
                    state.mem_mb = 0.0
                    return
                [point] = _chart_points([metrics.Point(snapshot.at, current.cpu_percent, current.mem_bytes)])
                state.series = [*state.series[-(metrics.MAX_POINTS - 1):], point]
                state.cpu_percent = current.cpu_percent
                state.mem_mb = point["mem_mb"]
                state.updated = snapshot.at.strftime("%H:%M:%S UTC")

            await self._edit(user_room(username), ContainerLive, edit)


async def _follow_events(collector: Collector, publisher: LivePublisher) -> None:
    """Apply engine events as they come (a stop shows within a second), reconnecting after outages."""
    loop = asyncio.get_running_loop()
    while True:
        queue: asyncio.Queue = asyncio.Queue()
        try:
            stream = await asyncio.to_thread(collector.runtime.events)
        except EngineUnavailable:
            await asyncio.sleep(EVENT_RETRY_S)
            continue

        def pump() -> None:
            try:
                for event in stream:
                    loop.call_soon_threadsafe(queue.put_nowait, event)
            except EngineUnavailable:
                pass
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, None)

        reader = loop.run_in_executor(None, pump)
        try:
            while (event := await queue.get()) is not None:
                changed = await asyncio.to_thread(collector.apply_event, event)
                if changed is not None:
                    await publisher.user_status(*changed)
        finally:
            stream.close()
            await reader
        await asyncio.sleep(EVENT_RETRY_S)


async def run_collector(app) -> None:
    """The lifespan task of every worker; only the lease holder sweeps and follows events."""
    interval = get_settings().metrics_interval
    lease = coordination.collector_lease(ttl_s=max(LEASE_MIN_TTL_S, 3 * interval))
    collector = Collector(get_runtime())
    publisher = LivePublisher(app)
    events: asyncio.Task | None = None
    try:
        while True:
            try:
                leader = await asyncio.to_thread(lease.acquire_or_renew)
            except Exception:  # noqa: BLE001 - Redis down: nobody can hold the lease
                log.exception("collector lease unavailable")
                leader = False
            if leader and events is None:
                log.info("collector lease taken by %s", lease.holder)
                events = asyncio.create_task(_follow_events(collector, publisher))
            elif not leader and events is not None:
                events.cancel()
                events = None
            if leader:
                await _sweep_and_publish(collector, publisher)
            await asyncio.sleep(interval)
    finally:
        if events is not None:
            events.cancel()
        await asyncio.to_thread(lease.release)


async def _sweep_and_publish(collector: Collector, publisher: LivePublisher) -> None:
    try:
        snapshot = await asyncio.to_thread(collector.sweep)
        series = await asyncio.to_thread(metrics.platform_series, PLATFORM_WINDOW)
    except EngineUnavailable:
        snapshot, series = None, []
    except Exception:  # noqa: BLE001 - the collector must survive anything one sweep hits
        log.exception("collector sweep failed")
        snapshot, series = None, []
    try:
        await publisher.platform(snapshot, series)
        await publisher.users(snapshot)
        for owner, status in snapshot.changed if snapshot else []:
            await publisher.user_status(owner, status)
    except Exception:  # noqa: BLE001
        log.exception("publishing live data failed")
