"""The live rooms: shared states that open pages link to, written by the collector's loop.

The loop (services/collector_loop.py) runs once per deployment, not per tab;
`LivePublisher` writes its results into these rooms and Reflex fans each change
out to every linked tab. Admins link to one platform room; each user links to a
room of their own, so nobody receives another user's numbers, and the cost
grows with the users watching, not with their tabs.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import reflex as rx

from saas_panel import presentation
from saas_panel.services import activity, auth, dashboard, metrics
from saas_panel.services.collector_loop import CollectorLoop, watchers
from saas_panel.services.monitor import ContainerUsage, Snapshot
from saas_panel.state.auth import AuthState
from saas_panel.state.rooms import PLATFORM, enter_room, room_token, user_room

USER_WINDOW = timedelta(hours=1)
TIMELINE_LENGTH = 20
MAX_ORPHANS_SHOWN = 20


async def load_timeline(username: str) -> list[dict]:
    rows = await asyncio.to_thread(activity.timeline, username, TIMELINE_LENGTH)
    return [presentation.timeline_row(row) for row in rows]


async def _session_user(state: rx.State):
    auth_state = await state.get_state(AuthState)
    return await asyncio.to_thread(auth.resolve_session, auth_state.session_token)


class UsageRoom(rx.State, mixin=True):
    """What both rooms show: whether the engine answers, and CPU and memory now and over time."""

    engine_ok: bool = True
    series: list[dict] = []
    cpu_percent: float = 0.0
    mem_mb: float = 0.0
    updated: str = ""


class PlatformLive(rx.SharedState, UsageRoom):
    by_state: dict[str, int] = {}
    top: list[dict] = []
    orphans: list[str] = []
    orphan_count: int = 0
    running: int = 0
    nodes: list[dict] = []  # an engine of several hosts only: presentation.node_row

    @rx.event
    async def join(self):
        user = await _session_user(self)
        if user is not None and user.is_admin:
            await enter_room(self, PLATFORM)


class ContainerLive(rx.SharedState, UsageRoom):
    status: str = ""
    node_down: bool = False  # the node the app runs on is down (an engine of several hosts)
    timeline: list[dict] = []

    @rx.event
    async def join(self):
        """Link this tab to its user's room; called again, renew the user's watch (the page does
        every coordination.WATCH_RENEW_S while it is open)."""
        user = await _session_user(self)
        if user is None:
            return
        if self._linked_to != room_token(user_room(user.username)):
            linked = await self._enter(user.username)
            linked._fill(await asyncio.to_thread(dashboard.open_dashboard, user.username, TIMELINE_LENGTH, USER_WINDOW))
        else:
            await self._enter(user.username)

    async def _enter(self, username: str) -> ContainerLive:
        """Watch `username`'s app and link this tab to their room (the caller has checked that the
        tab is `username`'s); returns the room's state, for the caller to fill."""
        await asyncio.to_thread(watchers().add, username)
        return await enter_room(self, user_room(username))

    def _fill(self, opened: dashboard.Opened) -> None:
        self.status = opened.view.state if opened.view else ""
        self.node_down = bool(opened.view and opened.view.node_down)
        self.timeline = [presentation.timeline_row(row) for row in opened.timeline]
        self.series = presentation.chart_points(opened.series)


LIVE_ROOMS = (PlatformLive, ContainerLive)  # a tab leaves every one of them at logout


class LivePublisher:
    """Writes the collector's results into the rooms (a `collector_loop.Publisher`)."""

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
            state.series = presentation.chart_points(series)
            state.by_state = snapshot.by_state
            state.running = len(snapshot.containers)
            state.cpu_percent = snapshot.cpu_percent
            state.mem_mb = presentation.megabytes(snapshot.mem_bytes)
            state.top = [{"owner": c.owner or c.name, "cpu": c.cpu_percent, "mem_mb": presentation.megabytes(c.mem_bytes)} for c in snapshot.top(10)]
            state.orphans = snapshot.orphans[:MAX_ORPHANS_SHOWN]
            state.orphan_count = len(snapshot.orphans)
            state.nodes = [presentation.node_row(row) for row in snapshot.nodes]
            state.updated = presentation.clock(snapshot.at)

        await self._edit(PLATFORM, PlatformLive, edit)

    async def usage(self, username: str, snapshot: Snapshot | None, mine: ContainerUsage | None) -> None:
        # Usage only: a sweep read before a stop may be published after it, so the status
        # comes from engine events and the panel's own actions, never from here.
        def edit(state: ContainerLive) -> None:
            state.engine_ok = snapshot is not None
            if snapshot is None:
                return
            if mine is None:
                state.cpu_percent = 0.0
                state.mem_mb = 0.0
                return
            [point] = presentation.chart_points([metrics.Point(snapshot.at, mine.cpu_percent, mine.mem_bytes)])
            state.series = [*state.series[-(metrics.MAX_POINTS - 1):], point]
            state.cpu_percent = mine.cpu_percent
            state.mem_mb = point["mem_mb"]
            state.updated = presentation.clock(snapshot.at)

        await self._edit(user_room(username), ContainerLive, edit)

    async def status(self, username: str, status: str) -> None:
        timeline = await load_timeline(username)

        def edit(state: ContainerLive) -> None:
            state.status = status
            state.timeline = timeline

        await self._edit(user_room(username), ContainerLive, edit)

    async def node(self, username: str, down: bool) -> None:
        timeline = await load_timeline(username)

        def edit(state: ContainerLive) -> None:
            state.node_down = down
            state.timeline = timeline

        await self._edit(user_room(username), ContainerLive, edit)


async def run_collector(app) -> None:
    """Lifespan task of every worker: the collector's loop, publishing into the rooms."""
    await CollectorLoop.for_deployment(LivePublisher(app)).run()
