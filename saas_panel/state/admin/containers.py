"""The admin's container table: per-row and bulk actions, and a detail dialog with logs."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from saas_panel import presentation
from saas_panel.errors import DomainError
from saas_panel.services import containers
from saas_panel.services.activity import Action
from saas_panel.services.provisioning import parse_action
from saas_panel.services.auth import CurrentUser
from saas_panel.state.admin.base import AdminBase, admin_event
from saas_panel.state.admin.table import TableState

DONE = {"start": "started", "stop": "stopped", "restart": "restarted", "delete": "deleted"}
LOG_TAIL = 100


class ContainersState(TableState, AdminBase):
    VIEW_ACTION: ClassVar[Action] = Action.VIEW_CONTAINERS
    QUERY: ClassVar[type] = containers.ContainerQuery
    FILTERS: ClassVar[tuple[str, ...]] = ("state", "owner", "image", "node")
    SORTS: ClassVar[tuple[str, ...]] = tuple(containers.CONTAINER_SORTS)

    sort: str = "created_at"
    descending: bool = True
    state_filter: str = "all"
    owner_filter: str = ""
    image_filter: str = ""
    node_filter: str = ""
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

    async def _refresh(self) -> None:
        self._show_page(await self._run(containers.list_containers, self._query()), presentation.container_row)

    async def _load(self) -> None:
        self.selected = []
        await self._refresh()

    # --- selection ---

    @admin_event()
    async def toggle(self, container_id: int, checked: bool):
        rest = [i for i in self.selected if i != container_id]
        self.selected = rest + [int(container_id)] if checked else rest

    @admin_event()
    async def toggle_page(self, checked: bool):
        on_page = set(self.page_ids)
        rest = [i for i in self.selected if i not in on_page]
        self.selected = rest + sorted(on_page) if checked else rest

    # --- actions ---

    @admin_event(lambda action, **_: parse_action(action).logged_as, busy="{action}:{container_id}")
    async def act(self, admin: CurrentUser, container_id: int, action: str):
        name = await self._run(containers.act, admin, container_id, action, self._client_ip())
        await self._refresh()
        if self.detail_open and self.detail.get("id") == container_id:
            await self._load_detail(container_id, missing_ok=True)
        return rx.toast.success(f"{name} {DONE.get(action, action)}.")

    @admin_event(lambda action, **_: parse_action(action).bulk_logged_as, busy="bulk")
    async def bulk(self, admin: CurrentUser, action: str):
        result = await self._run(containers.bulk, admin, list(self.selected), action, self._client_ip())
        self.selected = []
        await self._refresh()
        message = f"{action.capitalize()}: {result.summary}."
        return rx.toast.error(message) if result.failed else rx.toast.success(message)

    # --- detail ---

    async def _load_detail(self, container_id: int, missing_ok: bool = False) -> None:
        try:
            found = await self._run(containers.detail, container_id, LOG_TAIL)
        except DomainError:
            if not missing_ok:
                raise
            self.detail_open = False
            return
        data = presentation.container_detail(found)
        self.detail_labels = [list(pair) for pair in data.pop("labels")]
        self.detail = data

    @admin_event(Action.VIEW_CONTAINER, busy="detail:{container_id}")
    async def open_detail(self, container_id: int):
        await self._load_detail(container_id)
        self.detail_open = True

    @admin_event(Action.VIEW_CONTAINER)
    async def refresh_detail(self):
        if self.detail.get("id"):
            await self._load_detail(self.detail["id"], missing_ok=True)

    @admin_event(Action.VIEW_CONTAINER)
    async def set_detail_open(self, open_: bool):
        self.detail_open = bool(open_) and bool(self.detail)
