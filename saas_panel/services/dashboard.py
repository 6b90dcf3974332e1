"""What a user's dashboard shows when it opens, read in one go: one thread hop and at most one
engine call, since every hop and query is paid again on each person's first dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from saas_panel.services import activity, metrics, plans, provisioning, storage
from saas_panel.services.provisioning import ContainerView


@dataclass(frozen=True)
class Opened:
    view: ContainerView | None  # None: no app yet
    limits: plans.Limits
    usage: storage.Usage
    timeline: list[activity.ActivityRow]
    series: list[metrics.Point]  # the app's usage over `window`, for the charts


def open_dashboard(username: str, timeline_length: int, window: timedelta) -> Opened:
    view = provisioning.status(username)
    return Opened(
        view=view,
        limits=plans.limits_for(username),
        usage=storage.usage_of(username),
        timeline=activity.timeline(username, timeline_length),
        series=metrics.container_series(view.id, window) if view else [],
    )
