"""The admin's activity log: filters, search, paging and CSV export of the filtered view."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from saas_panel.errors import DomainError
from saas_panel.models import utcnow
from saas_panel.services import activity
from saas_panel.state.admin.base import AdminBase, denied
from saas_panel.state.admin.table import TableState


class ActivityState(TableState, AdminBase):
    """The log is always newest first: SORTS is empty, so `sort_by` only refreshes."""

    VIEW_ACTION: ClassVar[str] = "view_activity"
    FILTERS: ClassVar[tuple[str, ...]] = ("actor", "action", "target", "outcome", "date_from", "date_to")
    FILTER_MAX_CHARS: ClassVar[int] = 128

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

    async def _load(self) -> None:
        self.actions = await self._run(activity.actions)
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
    async def export_csv(self):
        query = self._query()

        def work(admin, ip):
            data = activity.export_csv(query)
            activity.record(activity.Action.EXPORT_ACTIVITY, actor=admin.username, ip=ip, details=f"{data.count(chr(10)) - 1} rows")
            return data

        async def done(data):
            return rx.download(data=data, filename=f"activity-{utcnow():%Y%m%d-%H%M%S}.csv", mime_type="text/csv")

        async for update in self._perform("export_activity", "export", work, done):
            yield update
