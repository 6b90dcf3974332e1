"""The user's dashboard: their own container only, found from the session, never from an argument."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import reflex as rx

from saas_panel import presentation
from saas_panel.errors import DomainError, EngineError, EngineUnavailable
from saas_panel.models import ContainerState
from saas_panel.services import app_access, auth, dashboard, export, metrics, plans, provisioning, storage, users
from saas_panel.services.provisioning import ContainerView
from saas_panel.state.auth import AuthState
from saas_panel.state.background import provision_in_background, provisioning_settled, tab_connected
from saas_panel.state.download import start_export_download
from saas_panel.state.live import TIMELINE_LENGTH, USER_WINDOW, ContainerLive, load_timeline

CHART_RANGES = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}
WATCH_INTERVAL_S = 0.5
WATCH_LIMIT_S = 180
ENGINE_TROUBLE = "Something went wrong with your container. Try again in a moment; an administrator can see what happened."


def user_message(exc: DomainError) -> str:
    """What a user is told: never the engine's own words (admins see those in the console and the log)."""
    return ENGINE_TROUBLE if isinstance(exc, (EngineError, EngineUnavailable)) else str(exc)


class DashboardState(AuthState):
    status: str = ""  # provisioning | running | stopped | error | missing | none
    engine_available: bool = True
    container_name: str = ""
    image: str = ""
    created: str = ""
    started_at: str = ""  # ISO 8601, UTC; the page shows it as "n minutes ago", ticking
    host_port: str = ""
    mem_limit: str = ""
    cpu_limit: str = ""
    error: str = ""
    app_url: str = ""
    pending_action: str = ""
    plan: dict[str, str] = {}  # name, cpu, memory, storage, idle_stop, used: as the "Your plan" card writes them
    storage_percent: int = 0
    storage_measured: bool = False
    storage_nearly_full: bool = False
    chart_range: str = "hour"
    history: list[dict] = []
    _watch_until: float = 0.0  # wall-clock end of this tab's running watch: one at a time

    @rx.var
    def is_provisioning(self) -> bool:
        return self.status == ContainerState.PROVISIONING.value

    async def _show(self, view: ContainerView | None, opened: dashboard.Opened | None = None) -> None:
        """Show `view`; `opened` already holds the plan and storage figures (else they are read)."""
        live = await self.get_state(ContainerLive)
        if view is None:
            self.status = live.status = "none"
            return
        live.status, live.node_down = view.state, view.node_down
        running = view.state == ContainerState.RUNNING.value
        self.status = view.state
        self.engine_available = view.engine_available
        self.container_name = view.name
        self.image = view.image
        self.created = presentation.when_utc(view.created_at)
        self.started_at = view.started_at.isoformat() if running and view.started_at else ""
        self.host_port = presentation.or_placeholder(view.host_port)
        self.mem_limit = presentation.memory(view.mem_limit_mb)
        self.cpu_limit = presentation.cpus(view.cpu_limit)
        self.error = ENGINE_TROUBLE if view.error else ""
        host = (self.router.headers.host or "localhost").rsplit(":", 1)[0]
        self.app_url = app_access.app_url(view.host_label, view.host_port if running else None, host)  # a visit wakes a stopped app
        if opened is None:
            limits, usage = await asyncio.to_thread(plans.limits_for, view.owner), await asyncio.to_thread(storage.usage_of, view.owner)
        else:
            limits, usage = opened.limits, opened.usage
        self._show_plan(limits, usage)

    def _show_plan(self, limits: plans.Limits, usage: storage.Usage) -> None:
        self.plan = presentation.plan_card(limits, usage)
        self.storage_percent = presentation.storage_percent(usage.used_bytes, usage.quota_mb)
        self.storage_measured = usage.used_bytes is not None
        self.storage_nearly_full = usage.nearly_full

    async def _load_history_and_timeline(self, username: str) -> None:
        live = await self.get_state(ContainerLive)
        live.timeline = await load_timeline(username)
        if self.chart_range == "hour":
            self.history = []
            return
        row_id = await asyncio.to_thread(provisioning.container_row_id, username)
        points = await asyncio.to_thread(metrics.container_series, row_id, CHART_RANGES[self.chart_range]) if row_id else []
        self.history = presentation.chart_points(points, over_days=True)

    @rx.event
    async def set_chart_range(self, chart_range: str | list[str]):
        chart_range = chart_range[0] if isinstance(chart_range, list) and chart_range else chart_range
        if chart_range not in CHART_RANGES:
            return
        self.chart_range = chart_range
        username = await self._owner()
        if username is not None:
            await self._load_history_and_timeline(username)

    async def _owner(self) -> str | None:
        user = await self._current_user()
        return user.username if user else None

    @rx.event
    async def load(self):
        """The page's one on_load event (each more would be a round trip on the first dashboard):
        check the session, link the tab to its user's live room, and show the app."""
        user = await self._current_user()
        if user is None:
            return rx.redirect("/login")
        username = user.username
        opened = await asyncio.to_thread(dashboard.open_dashboard, username, TIMELINE_LENGTH, USER_WINDOW)
        if opened.view is None and user.is_admin:  # administrators get no app of their own
            await self._show(None)
            return
        if opened.view is None:
            provision_in_background(username, actor=username, ip=self._client_ip())
        live = await (await self.get_state(ContainerLive))._enter(username)
        live._fill(opened)
        if opened.view is None:
            self.status = live.status = ContainerState.PROVISIONING.value
            return DashboardState.watch
        await self._show(opened.view, opened)
        if self.chart_range != "hour":
            await self._load_history_and_timeline(username)
        if self.is_provisioning:
            return DashboardState.watch

    @rx.event(background=True)
    async def watch(self):
        """Follow a container that is being created until it settles (or the session ends).

        A client can send this event any number of times: only one watch runs per tab.
        """
        async with self:
            if self._watch_until > time.time():
                return
            self._watch_until = time.time() + WATCH_LIMIT_S
        try:
            async with self:
                token = self.session_token
            while self._watch_until > time.time():
                user = await asyncio.to_thread(auth.resolve_session, token)
                if user is None or not await tab_connected(self):
                    return
                await provisioning_settled(user.username, WATCH_INTERVAL_S)
                view = await asyncio.to_thread(provisioning.status, user.username)
                if view is None:  # the provisioning thread has not written its row yet
                    continue
                async with self:
                    await self._show(view)
                    await self._load_history_and_timeline(user.username)
                    if not self.is_provisioning:
                        if self.status == ContainerState.RUNNING.value:
                            return rx.toast.success("Your container is running.")
                        return rx.toast.error(self.error or f"Your container is {self.status}.")
        finally:
            async with self:
                self._watch_until = 0.0

    @rx.event
    async def refresh(self):
        username = await self._owner()
        if username is not None:
            await self._show(await asyncio.to_thread(provisioning.status, username))
            await self._load_history_and_timeline(username)

    @rx.event
    async def container_action(self, action: str):
        if action not in provisioning.CONTROL_ACTIONS:
            yield rx.toast.error("Unknown action.")
            return
        user = await self._current_user()
        if user is None:
            yield rx.redirect("/login")
            return
        username = user.username
        self.pending_action = action
        yield
        try:
            view = await asyncio.to_thread(provisioning.user_control, user, action, ip=self._client_ip())
        except DomainError as exc:
            self.pending_action = ""
            yield rx.toast.error(user_message(exc))
            return
        self.pending_action = ""
        await self._show(view)
        await self._load_history_and_timeline(username)
        yield rx.toast.success({"start": "Container started.", "stop": "Container stopped.", "restart": "Container restarted."}[action])

    @rx.event
    async def download_data(self):
        """The user's own /data, always the session's user: a client names no one."""
        user = await self._current_user()
        if user is None:
            return rx.redirect("/login")
        try:
            ticket = await asyncio.to_thread(export.issue_export_ticket, user, user.username)
        except DomainError as exc:
            return rx.toast.error(user_message(exc))
        return start_export_download(ticket)

    @rx.event
    async def change_password(self, form_data: dict):
        self.pending_action = "password"
        yield
        try:
            self.session_token = await asyncio.to_thread(
                auth.change_password,
                self.session_token,
                str(form_data.get("current_password", "")),
                str(form_data.get("new_password", "")),
                self._client_ip(),
            )
        except DomainError as exc:
            yield rx.toast.error(str(exc))
            return
        finally:
            self.pending_action = ""
        yield rx.toast.success("Password changed; your other sessions were ended.")

    @rx.event
    async def delete_account(self, form_data: dict):
        self.pending_action = "delete"
        yield
        try:
            await asyncio.to_thread(
                users.delete_own_account, self.session_token, str(form_data.get("password", "")), ip=self._client_ip()
            )
        except DomainError as exc:
            yield rx.toast.error(user_message(exc))
            return
        finally:
            self.pending_action = ""
        refresh = await self._forget_user()
        yield [*refresh, rx.redirect("/login"), rx.toast.success("Your account and your container were deleted.")]
