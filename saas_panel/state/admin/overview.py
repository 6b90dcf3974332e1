"""The admin overview: current numbers (live charts come from the monitoring screens)."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx

from saas_panel import presentation
from saas_panel.services import alerts, overview
from saas_panel.services.activity import Action
from saas_panel.state.admin.base import AdminBase
from saas_panel.state.admin.table import ScreenState

FIRING_SHOWN = 10


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
    nodes: list[dict] = []  # an engine of several hosts only: presentation.node_row
    firing: list[dict] = []  # presentation.alert_row of the alerts firing now
    loaded: bool = False

    @rx.var
    def usage_hint(self) -> str:
        if not self.sampled:
            return "no samples yet"
        return f"sum of {self.sampled} running container{'s' if self.sampled != 1 else ''}"

    def _clear(self) -> None:
        self.users_total = self.users_active = self.containers_total = self.sampled = 0
        self.containers, self.recent, self.nodes, self.firing, self.loaded = [], [], [], [], False

    async def _refresh(self) -> None:
        data = await self._run(overview.overview)
        self.users_total, self.users_active = data.users_total, data.users_active
        self.containers_total = data.containers_total
        self.containers = [[state, count] for state, count in data.containers.items()]
        self.sampled = data.usage.sampled
        self.cpu_in_use = presentation.percent(data.usage.cpu_percent) if data.usage.sampled else presentation.PLACEHOLDER
        self.mem_in_use = presentation.size(data.usage.mem_bytes) if data.usage.sampled else presentation.PLACEHOLDER
        self.engine_ok = data.engine_ok
        self.recent = [presentation.activity_row(row) for row in data.recent]
        self.nodes = [presentation.node_row(row) for row in data.nodes]
        self.firing = [presentation.alert_row(row) for row in await self._run(alerts.recent_alerts, FIRING_SHOWN, True)]
        self.loaded = True
