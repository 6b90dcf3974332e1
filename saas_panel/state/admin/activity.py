"""The admin's activity log: filters, search, paging and CSV export of the filtered view."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from saas_panel import presentation
from saas_panel.errors import DomainError
from saas_panel.models import utcnow
from saas_panel.services import activity
from saas_panel.services.auth import CurrentUser
from saas_panel.state.admin.base import AdminBase, admin_event
from saas_panel.state.admin.table import TableState


class ActivityState(TableState, AdminBase):
    """The log is always newest first: SORTS is empty, so `sort_by` only refreshes."""

    VIEW_ACTION: ClassVar[activity.Action] = activity.Action.VIEW_ACTIVITY
    QUERY: ClassVar[type] = activity.ActivityQuery
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

    async def _refresh(self) -> None:
        try:
            self._show_page(await self._run(activity.search, self._query()), presentation.activity_row)
            self.error = ""
        except DomainError as exc:  # e.g. a malformed date
            self._clear_table()
            self.error = str(exc)

    async def _load(self) -> None:
        self.actions = await self._run(activity.actions)
        await self._refresh()

    @admin_event()
    async def clear_filters(self):
        self.search, self.actor_filter, self.target_filter = "", "", ""
        self.action_filter, self.outcome_filter = "all", "all"
        self.date_from_filter, self.date_to_filter = "", ""
        self.page = 1
        await self._refresh()

    @admin_event(activity.Action.EXPORT_ACTIVITY, busy="export")
    async def export_csv(self, admin: CurrentUser):
        data = await self._run(activity.export_csv, self._query())
        rows = data.count("\n") - 1
        await self._run(activity.record, activity.Action.EXPORT_ACTIVITY, actor=admin.username, ip=self._client_ip(), details=f"{rows} rows")
        return rx.download(data=data, filename=f"activity-{utcnow():%Y%m%d-%H%M%S}.csv", mime_type="text/csv")
