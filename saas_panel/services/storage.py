"""How much of their storage each user's files take: measured by the collector, warned at 90 %.

`sweep` asks the engine for every volume's usage in one call and stores it on the users'
rows. Crossing WARN_FRACTION of the plan's storage writes one `storage_warning` on the
user's timeline; falling back below it makes the next crossing warn again. Where the engine
cannot cap a volume (`runtime.storage_enforced` False), a running container at its quota is
stopped (`storage_full`), and `provisioning.control` refuses to start it while it stays there.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, or_, update
from sqlmodel import func, select

from saas_panel import presentation
from saas_panel.db import session_scope
from saas_panel.errors import DomainError, EngineError, EngineUnavailable, NotFound
from saas_panel.models import Container, ContainerState, Plan, User, utcnow
from saas_panel.runtime import ContainerRuntime, VolumeSpec, get_runtime
from saas_panel.services import activity, plans, provisioning

log = logging.getLogger(__name__)

WARN_FRACTION = 0.9


@dataclass(frozen=True)
class Usage:
    """A user's storage as last measured (`used_bytes` None: not measured yet) against their plan's."""

    used_bytes: int | None
    quota_mb: int
    measured_at: datetime | None = None

    @property
    def fraction(self) -> float | None:
        return None if self.used_bytes is None else self.used_bytes / (self.quota_mb * plans.MB)

    @property
    def nearly_full(self) -> bool:
        return self.fraction is not None and self.fraction >= WARN_FRACTION

    @property
    def full(self) -> bool:
        return self.fraction is not None and self.fraction >= 1

    @property
    def described(self) -> str:
        """930 of 1024 MB used (90 %)"""
        return f"{presentation.storage(self.used_bytes, self.quota_mb)} used ({presentation.storage_percent(self.used_bytes, self.quota_mb)} %)"


@dataclass(frozen=True)
class _Member:
    """One user whose volume is measured, as read before the measure."""

    user_id: int
    username: str
    volume: VolumeSpec
    quota_mb: int
    warned: bool
    running: bool


@dataclass(frozen=True)
class SweepResult:
    measured: int = 0
    warned: list[str] = field(default_factory=list)
    stopped: list[str] = field(default_factory=list)


_users = User.__table__
_STORE = (
    update(_users)
    .where(_users.c.id == bindparam("user_id"))
    .values(storage_used_bytes=bindparam("used"), storage_measured_at=bindparam("at"), storage_warned=bindparam("warned"))
)


def _members() -> list[_Member]:
    """Users with a container row or an earlier measure (so a volume), each with their plan's storage."""
    with session_scope() as session:
        default_id = plans.default_plan(session).id
        rows = session.exec(
            select(User, Plan, Container.state)
            .join(Plan, Plan.id == func.coalesce(User.plan_id, default_id))
            .outerjoin(Container, Container.user_id == User.id)
            .where(or_(Container.id.is_not(None), User.storage_used_bytes.is_not(None)))
            .order_by(User.id)  # users in signup order on every database (PostgreSQL has no implicit order)
        ).all()
        return [
            _Member(user.id, user.username, provisioning.data_volume(user, plan.storage_mb), plan.storage_mb,
                    user.storage_warned, state == ContainerState.RUNNING.value)
            for user, plan, state in rows
        ]


def _store(measured: list[tuple[_Member, Usage]], now: datetime) -> list[str]:
    """Write every usage in one statement, with a warning for each new crossing; returns who was warned."""
    crossed = [(member, usage) for member, usage in measured if usage.nearly_full and not member.warned]
    with session_scope() as session:
        session.connection().execute(
            _STORE, [{"user_id": member.user_id, "used": usage.used_bytes, "at": now, "warned": usage.nearly_full} for member, usage in measured]
        )
        for member, usage in crossed:
            activity.record(activity.Action.STORAGE_WARNING, actor=activity.SYSTEM_ACTOR, target=member.username,
                            details=usage.described, session=session)
    return [member.username for member, _ in crossed]


def _stop_full(username: str, usage: Usage) -> None:
    provisioning.control(username, "stop", actor=activity.SYSTEM_ACTOR, logged_as=activity.Action.STORAGE_FULL,
                         details=f"/data is full ({usage.described}): the app stays stopped until its plan is larger or files are removed")


def sweep(runtime: ContainerRuntime | None = None, now: datetime | None = None) -> SweepResult:
    """Measure every user's volume, store it, warn at WARN_FRACTION and, where the engine does
    not enforce quotas, stop the running containers at theirs. An engine that cannot measure changes nothing."""
    runtime, now = runtime or get_runtime(), now or utcnow()
    members = _members()
    if not members:
        return SweepResult()
    try:
        used = runtime.volume_usage([member.volume for member in members])
    except (EngineUnavailable, EngineError) as exc:  # down, or busy measuring for someone else
        log.warning("storage not measured: %s", exc)
        return SweepResult()
    # A volume the engine does not have (not made yet, or removed) keeps its last measure.
    measured = [(member, Usage(used[member.volume.name], member.quota_mb)) for member in members if member.volume.name in used]
    warned = _store(measured, now) if measured else []
    stopped = []
    if not runtime.storage_enforced:
        for member, usage in measured:
            if not (usage.full and member.running):
                continue
            try:
                _stop_full(member.username, usage)
            except DomainError as exc:  # one app that cannot be stopped must not spare the others
                log.warning("stopping %s at its storage quota failed: %s", member.username, exc)
                continue
            stopped.append(member.username)
    return SweepResult(len(measured), warned, stopped)


def usage_of(username: str) -> Usage:
    """`username`'s storage as last measured, against their plan's."""
    with session_scope() as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            raise NotFound("This user does not exist.")
        return Usage(user.storage_used_bytes, plans.plan_of(session, user).storage_mb, user.storage_measured_at)
