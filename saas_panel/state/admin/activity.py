"""The admin's activity log: filters, search, paging and CSV export of the filtered view."""

from __future__ import annotations

import reflex as rx

from saas_panel.errors import DomainError
from saas_panel.models import utcnow
from saas_panel.services import activity
from saas_panel.state.admin.base import AdminBase, TableMixin, denied

FILTERS = ("actor", "action", "target", "outcome", "date_from", "date_to")


class ActivityState(TableMixin, AdminBase):
    actor_filter: str = ""
    action_filter: str = "all"
    target_filter: str = ""
    outcome_filter: str = "all"
    date_from_filter: str = ""
    date_to_filter: str = ""
    actions: list[str] = []
    error: str = ""

    def _clear(self) -> None:
        self._clear_table()
        self.actions = []

    def _query(self) -> activity.ActivityQuery:
        return activity.ActivityQuery(
            search=self.search,
            actor=self.actor_filter,
            action=self.action_filter,
            target=self.target_filter,
            outcome=self.outcome_filter,
            date_from=self.date_from_filter,
            date_to=self.date_to_filter,
            page=self.page,
        )

    async def _refresh(self) -> None:
        try:
            self._show_page(await self._run(activity.search, self._query()))
            self.error = ""
        except DomainError as exc:  # e.g. a malformed date
            self._clear_table()
            self.error = str(exc)

    @rx.event
    async def load(self):
        if await self._admin("view_activity") is None:
            return denied()
        self.actions = await self._run(activity.actions)
        await self._refresh()

    @rx.event
    async def set_search(self, value: str):
        if await self._admin("view_activity") is None:
            return denied()
        self.search, self.page = str(value)[:100], 1
        await self._refresh()

    @rx.event
    async def set_filter(self, name: str, value: str):
        if await self._admin("view_activity") is None:
            return denied()
        if name in FILTERS:
            setattr(self, f"{name}_filter", str(value)[:128])
            self.page = 1
        await self._refresh()

    @rx.event
    async def clear_filters(self):
        if await self._admin("view_activity") is None:
            return denied()
        self.search, self.actor_filter, self.target_filter = "", "", ""
        self.action_filter, self.outcome_filter = "all", "all"
        self.date_from_filter, self.date_to_filter = "", ""
        self.page = 1
        await self._refresh()

    @rx.event
    async def go_to_page(self, page: int):
        if await self._admin("view_activity") is None:
            return denied()
        self.page = max(1, int(page)) if str(page).lstrip("-").isdigit() else 1
        await self._refresh()

    @rx.event
    async def export_csv(self):
        admin = await self._admin("export_activity")
        if admin is None:
            yield denied()
            return
        self.pending = "export"
        yield
        try:
            data = await self._run(activity.export_csv, self._query())
        except DomainError as exc:
            yield rx.toast.error(str(exc))
            return
        finally:
            self.pending = ""
        await self._run(activity.record, "export_activity", actor=admin.username, ip=self._client_ip(), details=f"{data.count(chr(10)) - 1} rows")
        yield rx.download(data=data, filename=f"activity-{utcnow():%Y%m%d-%H%M%S}.csv", mime_type="text/csv")
