"""What the admin screens share: opening one, and paging, sorting, searching and filtering its table.

These are mixins on purpose: Reflex copies a mixin's vars and event handlers
into each screen's state, so every screen keeps its own rows and its own
handlers (a handler on a parent state would run on that parent's instance, and
a parent's vars are shared by all its substates). A class whose state bases
are all mixins is a mixin too, so a screen names AdminBase as well:
`class UsersState(TableState, AdminBase)`. Constants are declared ClassVar, or
Reflex would make them vars. The handlers below check the screen's VIEW_ACTION.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import ClassVar

from saas_panel.services.query import Page
from saas_panel.state.admin.base import AdminBase, admin_event


class ScreenState(AdminBase, mixin=True):
    """An admin screen whose `load` fetches what it shows."""

    async def _refresh(self) -> None:
        """Fetch what the screen shows."""
        raise NotImplementedError

    async def _load(self) -> None:
        """What opening the screen fetches (a screen with more than its rows extends this)."""
        await self._refresh()

    @admin_event()
    async def load(self):
        await self._load()


class TableState(ScreenState, mixin=True):
    """A paged table: search, filters (`<name>_filter` vars listed in FILTERS) and sortable columns.

    The service's QUERY dataclass is filled from the vars of the same names:
    search, sort, descending, page, and each filter under its name.
    """

    QUERY: ClassVar[type]
    FILTERS: ClassVar[tuple[str, ...]] = ()
    FILTER_MAX_CHARS: ClassVar[int] = 100
    SORTS: ClassVar[tuple[str, ...]] = ()

    rows: list[dict] = []
    total: int = 0
    page: int = 1
    pages: int = 1
    sort: str = ""
    descending: bool = False
    search: str = ""

    def _query(self):
        values = {"search": self.search, "sort": self.sort, "descending": self.descending, "page": self.page}
        values |= {name: getattr(self, f"{name}_filter") for name in self.FILTERS}
        fields = {field.name for field in dataclasses.fields(self.QUERY)}
        return self.QUERY(**{name: value for name, value in values.items() if name in fields})

    def _show_page(self, result: Page, present: Callable[[object], dict]) -> None:
        """Show `result`, each row as `present` (a presentation function) writes it."""
        self.rows = [present(row) for row in result.rows]
        self.total = result.total
        self.page = result.page
        self.pages = result.pages

    def _clear_table(self) -> None:
        self.rows = []
        self.total = 0
        self.page = 1
        self.pages = 1

    def _clear(self) -> None:
        self._clear_table()

    def _row(self, row_id: int) -> dict | None:
        return next((row for row in self.rows if row["id"] == row_id), None)

    @admin_event()
    async def set_search(self, value: str):
        self.search, self.page = str(value)[:100], 1
        await self._refresh()

    @admin_event()
    async def set_filter(self, name: str, value: str):
        if name in self.FILTERS:
            setattr(self, f"{name}_filter", str(value)[: self.FILTER_MAX_CHARS])
            self.page = 1
        await self._refresh()

    @admin_event()
    async def sort_by(self, column: str):
        if column in self.SORTS:
            if self.sort == column:
                self.descending = not self.descending
            else:
                self.sort, self.descending = column, False
            self.page = 1
        await self._refresh()

    @admin_event()
    async def go_to_page(self, page: int):
        self.page = max(1, int(page)) if str(page).lstrip("-").isdigit() else 1
        await self._refresh()
