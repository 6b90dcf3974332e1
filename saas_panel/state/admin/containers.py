"""The admin's container table: per-row and bulk actions, and a detail dialog with logs."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import reflex as rx

from saas_panel.errors import DomainError
from saas_panel.services import containers
from saas_panel.services.activity import Action
from saas_panel.state.admin.base import AdminBase, denied
from saas_panel.state.admin.table import TableState

DONE = {"start": "started", "stop": "stopped", "restart": "restarted", "delete": "deleted"}
# The log's action for each action a client may ask for (the client's word is never logged).
ADMIN_ACTIONS = {"start": Action.START, "stop": Action.STOP, "restart": Action.RESTART, "delete": Action.REMOVE_CONTAINER}
BULK_ACTIONS = {"start": Action.BULK_START, "stop": Action.BULK_STOP, "restart": Action.BULK_RESTART, "delete": Action.BULK_DELETE}
LOG_TAIL = 100


class ContainersState(TableState, AdminBase):
    VIEW_ACTION: ClassVar[str] = "view_containers"
    FILTERS: ClassVar[tuple[str, ...]] = ("state", "owner", "image")
    SORTS: ClassVar[tuple[str, ...]] = tuple(containers.CONTAINER_SORTS)

    sort: str = "created_at"
    descending: bool = True
    state_filter: str = "all"
    owner_filter: str = ""
    image_filter: str = ""
    selected: list[int] = []
    detail: dict = {}
    detail_labels: list[list[str]] = []
    detail_open: bool = False

    @rx.var
    def selected_count(self) -> int:
        return len(self.selected)

    @rx.var
    def page_ids(self) -> list[int]:
        return [row["id"] for row in self.rows]

    @rx.var
    def page_all_selected(self) -> bool:
        chosen = set(self.selected)
        return bool(self.rows) and all(row["id"] in chosen for row in self.rows)

    def _clear(self) -> None:
        self._clear_table()
        self.selected = []
        self.detail, self.detail_labels, self.detail_open = {}, [], False

    def _query(self) -> containers.ContainerQuery:
        return containers.ContainerQuery(
            search=self.search,
            state=self.state_filter,
            owner=self.owner_filter,
            image=self.image_filter,
            sort=self.sort,
            descending=self.descending,
            page=self.page,
        )

    async def _refresh(self) -> None:
        self._show_page(await self._run(containers.list_containers, self._query()))

    async def _load(self) -> None:
        self.selected = []
        await self._refresh()

    # --- selection ---

    @rx.event
    async def toggle(self, container_id: int, checked: bool):
        if await self._admin("view_containers") is None:
            return denied()
        rest = [i for i in self.selected if i != container_id]
        self.selected = rest + [int(container_id)] if checked else rest

    @rx.event
    async def toggle_page(self, checked: bool):
        if await self._admin("view_containers") is None:
            return denied()
        on_page = set(self.page_ids)
        rest = [i for i in self.selected if i not in on_page]
        self.selected = rest + sorted(on_page) if checked else rest

    # --- actions ---

    @rx.event
    async def act(self, container_id: int, action: str):
        async def done(name):
            await self._refresh()
            if self.detail_open and self.detail.get("id") == container_id:
                await self._load_detail(container_id, missing_ok=True)
            return rx.toast.success(f"{name} {DONE.get(action, action)}.")

        work = lambda admin, ip: containers.act(admin, container_id, action, ip)  # noqa: E731
        if action not in ADMIN_ACTIONS:
            yield rx.toast.error("Unknown action.")
            return
        async for update in self._perform(ADMIN_ACTIONS[action], f"{action}:{container_id}", work, done):
            yield update

    @rx.event
    async def bulk(self, action: str):
        async def done(result):
            self.selected = []
            await self._refresh()
            message = f"{action.capitalize()}: {result.summary}."
            return rx.toast.error(message) if result.failed else rx.toast.success(message)

        chosen = list(self.selected)
        work = lambda admin, ip: containers.bulk(admin, chosen, action, ip)  # noqa: E731
        if action not in BULK_ACTIONS:
            yield rx.toast.error("Unknown action.")
            return
        async for update in self._perform(BULK_ACTIONS[action], "bulk", work, done):
            yield update

    # --- detail ---

    async def _load_detail(self, container_id: int, missing_ok: bool = False) -> None:
        try:
            found = await self._run(containers.detail, container_id, LOG_TAIL)
        except DomainError:
            if not missing_ok:
                raise
            self.detail_open = False
            return
        data = dataclasses.asdict(found)
        self.detail_labels = [list(pair) for pair in data.pop("labels")]
        self.detail = data

    @rx.event
    async def open_detail(self, container_id: int):
        if await self._admin("view_container") is None:
            return denied()
        self.pending = f"detail:{container_id}"
        try:
            await self._load_detail(container_id)
        except DomainError as exc:
            return rx.toast.error(str(exc))
        finally:
            self.pending = ""
        self.detail_open = True

    @rx.event
    async def refresh_detail(self):
        if await self._admin("view_container") is None:
            return denied()
        if self.detail.get("id"):
            await self._load_detail(self.detail["id"], missing_ok=True)

    @rx.event
    async def set_detail_open(self, open_: bool):
        if await self._admin("view_container") is None:
            return denied()
        self.detail_open = bool(open_) and bool(self.detail)
