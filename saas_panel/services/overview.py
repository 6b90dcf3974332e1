"""The admin overview's current numbers: users, containers by state, resources in use, engine health, nodes.

CPU and memory come from the latest raw sample the metrics collector stored
for each running container (never a live `docker stats` per container).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import func, select

from saas_panel.db import session_scope
from saas_panel.models import Container, ContainerState, Metric, utcnow
from saas_panel.runtime import ContainerRuntime, get_runtime
from saas_panel.services import activity, nodes, users

SAMPLE_MAX_AGE = timedelta(minutes=5)  # older samples describe a past, not "in use"


@dataclass(frozen=True)
class Usage:
    cpu_percent: float
    mem_bytes: int
    sampled: int  # running containers with a recent sample


@dataclass(frozen=True)
class Overview:
    users_total: int
    users_active: int
    containers: dict[str, int]  # every ContainerState value, zero when none
    usage: Usage
    engine_ok: bool
    recent: list[activity.ActivityRow] = field(default_factory=list)
    nodes: list[nodes.NodeRow] = field(default_factory=list)  # an engine of several hosts only

    @property
    def containers_total(self) -> int:
        return sum(self.containers.values())


def containers_by_state() -> dict[str, int]:
    counts = {state.value: 0 for state in ContainerState}
    with session_scope() as session:
        for state, count in session.exec(select(Container.state, func.count()).group_by(Container.state)).all():
            counts[state] = count
    return counts


def usage_now() -> Usage:
    """Sum of the newest raw sample of each running container, if it is recent."""
    since = utcnow() - SAMPLE_MAX_AGE
    latest = (
        select(Metric.container_id, func.max(Metric.ts).label("ts"))
        .join(Container, Container.id == Metric.container_id)
        .where(Container.state == ContainerState.RUNNING.value, Metric.resolution == 0, Metric.ts >= since)
        .group_by(Metric.container_id)
        .subquery()
    )
    statement = select(func.coalesce(func.sum(Metric.cpu_percent), 0.0), func.coalesce(func.sum(Metric.mem_bytes), 0), func.count()).join(
        latest, (Metric.container_id == latest.c.container_id) & (Metric.ts == latest.c.ts)
    ).where(Metric.resolution == 0)
    with session_scope() as session:
        cpu, mem, sampled = session.exec(statement).one()
    return Usage(cpu_percent=round(float(cpu), 2), mem_bytes=int(mem), sampled=int(sampled))


def overview(runtime: ContainerRuntime | None = None, recent_rows: int = 8) -> Overview:
    total, active = users.count_users()
    return Overview(
        users_total=total,
        users_active=active,
        containers=containers_by_state(),
        usage=usage_now(),
        engine_ok=(runtime or get_runtime()).ping(),
        recent=activity.recent(recent_rows),
        nodes=nodes.overview(),
    )
