"""What every admin screen shares: the role check, the busy flag, table paging and sorting.

Handlers are public (a client can send any event, and `setvar` any var without
a leading underscore), so each one starts with `await self._admin(action)`,
which reads the role from the database session and logs a refusal. Values a
client could have set (page, sort, filters, selection) are re-validated by the
services.
"""

from __future__ import annotations

import asyncio
import dataclasses

import reflex as rx

from saas_panel.errors import PermissionDenied
from saas_panel.services.auth import CurrentUser
from saas_panel.services.query import Page
from saas_panel.state.auth import AuthState

DENIED = "You need to be an administrator to do this."


def denied():
    return rx.toast.error(DENIED)


def as_dicts(rows: list) -> list[dict]:
    return [dataclasses.asdict(row) for row in rows]


class AdminBase(AuthState):
    # The action running now, e.g. "stop:12" or "bulk"; buttons show a spinner and are disabled.
    pending: str = ""

    async def _admin(self, action: str) -> CurrentUser | None:
        """The admin behind this session, or None (the refusal is logged, the screen cleared)."""
        try:
            return await self._require_admin(action)
        except PermissionDenied:
            self._clear()
            return None

    def _clear(self) -> None:
        """Forget every row shown (a screen overrides this with its own data)."""

    @staticmethod
    async def _run(fn, *args, **kwargs):
        """Database, bcrypt and engine work runs off the event loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)


class TableMixin(rx.State, mixin=True):
    """Paging and sorting vars and computed labels for one table."""

    rows: list[dict] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    sort: str = ""
    descending: bool = False
    search: str = ""

    def _show_page(self, result: Page) -> None:
        self.rows = as_dicts(result.rows)
        self.total = result.total
        self.page = result.page
        self.pages = result.pages

    def _clear_table(self) -> None:
        self.rows = []
        self.total = 0
        self.page = 1
        self.pages = 1

    def _toggle_sort(self, column: str, allowed) -> None:
        if column not in allowed:
            return
        if self.sort == column:
            self.descending = not self.descending
        else:
            self.sort, self.descending = column, False
        self.page = 1
