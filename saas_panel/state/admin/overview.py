"""The admin overview: current numbers (live charts come from the monitoring screens)."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from saas_panel.services import overview
from saas_panel.services.activity import Action
from saas_panel.state.admin.base import AdminBase, as_dicts
from saas_panel.state.admin.table import ScreenState


def _bytes(amount: int) -> str:
    size = float(amount)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


class OverviewState(ScreenState, AdminBase):
    VIEW_ACTION: ClassVar[Action] = Action.VIEW_OVERVIEW

    users_total: int = 0
    users_active: int = 0
    containers_total: int = 0
    containers: list[list] = []  # [state, count] in ContainerState order
    cpu_in_use: str = ""
    mem_in_use: str = ""
    sampled: int = 0
    engine_ok: bool = True
    recent: list[dict] = []
    loaded: bool = False

    @rx.var
    def usage_hint(self) -> str:
        if not self.sampled:
            return "no samples yet"
        return f"sum of {self.sampled} running container{'s' if self.sampled != 1 else ''}"

    def _clear(self) -> None:
        self.users_total = self.users_active = self.containers_total = self.sampled = 0
        self.containers, self.recent, self.loaded = [], [], False

    async def _refresh(self) -> None:
        data = await self._run(overview.overview)
        self.users_total, self.users_active = data.users_total, data.users_active
        self.containers_total = data.containers_total
        self.containers = [[state, count] for state, count in data.containers.items()]
        self.sampled = data.usage.sampled
        self.cpu_in_use = f"{data.usage.cpu_percent:g} %" if data.usage.sampled else "—"
        self.mem_in_use = _bytes(data.usage.mem_bytes) if data.usage.sampled else "—"
        self.engine_ok = data.engine_ok
        self.recent = as_dicts(data.recent)
        self.loaded = True
