"""Each container's last request through the edge, and the culler that stops idle containers.

The edge asks the panel to authorize every request to a user's app, so
`note_activity` runs once per request: it only updates an in-memory buffer.
Every worker writes its buffer to `containers.last_activity_at` with `flush`
(a time only ever moves forward, so workers may flush in any order); the one
worker holding the culler lease then stops the running containers nobody has
used for their plan's idle timeout (by default SAAS_PANEL_IDLE_STOP_MINUTES). A container's idle time counts from
its last request or its last start, whichever is later: one started again by
its owner is not stopped for the requests it missed while it was stopped.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, or_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import func, select

from saas_panel.config import get_settings
from saas_panel.db import session_scope
from saas_panel.errors import DatabaseUnavailable
from saas_panel.models import Container, ContainerState, Plan, User, utcnow
from saas_panel.services import activity, coordination, plans, provisioning

log = logging.getLogger(__name__)

LEASE_KEY = "saas-panel:idle-culler-lease"

_seen: dict[int | str, datetime] = {}  # container row id or username -> its latest request
_seen_lock = threading.Lock()


def note_activity(container_id_or_username: int | str, at: datetime | None = None) -> None:
    """Remember a request to a user's app (no database work: `flush` writes it)."""
    at = at or utcnow()
    with _seen_lock:
        previous = _seen.get(container_id_or_username)
        if previous is None or at > previous:
            _seen[container_id_or_username] = at


def _merge(times: dict[int | str, datetime]) -> None:
    for key, at in times.items():
        note_activity(key, at)


def _latest_by_row(session, times: dict[int | str, datetime]) -> dict[int, datetime]:
    """The buffered times keyed by container row id (usernames without a container drop out)."""
    names = [key for key in times if isinstance(key, str)]
    row_of = dict(session.exec(select(User.username, Container.id).join(Container, Container.user_id == User.id).where(User.username.in_(names))).all()) if names else {}
    latest: dict[int, datetime] = {}
    for key, at in times.items():
        row_id = row_of.get(key) if isinstance(key, str) else int(key)
        if row_id is not None and (row_id not in latest or at > latest[row_id]):
            latest[row_id] = at
    return latest


_containers = Container.__table__
_seen_param = bindparam("seen", type_=_containers.c.last_activity_at.type)
_MOVE_FORWARD = (
    update(_containers)
    .where(_containers.c.id == bindparam("row_id"), or_(_containers.c.last_activity_at.is_(None), _containers.c.last_activity_at < _seen_param))
    .values(last_activity_at=_seen_param)
)


def flush() -> int:
    """Write the buffered times in one transaction, never moving a stored time back; returns
    how many containers were written. On failure the times go back into the buffer."""
    with _seen_lock:
        times = dict(_seen)
        _seen.clear()
    if not times:
        return 0
    try:
        with session_scope() as session:
            latest = _latest_by_row(session, times)
            if latest:
                session.connection().execute(_MOVE_FORWARD, [{"row_id": row_id, "seen": at} for row_id, at in latest.items()])
    except BaseException:
        _merge(times)
        raise
    return len(latest)


@dataclass(frozen=True)
class IdleContainer:
    username: str
    idle_since: datetime  # the later of its last request and its last start


def _minutes(stop_minutes: float | None) -> timedelta | None:
    return timedelta(minutes=stop_minutes) if stop_minutes and stop_minutes > 0 else None


def timeouts() -> list[timedelta]:
    """Every idle timeout in force: the panel's (SAAS_PANEL_IDLE_STOP_MINUTES) and each plan's own.

    Only the panel's while the database cannot be read: the culler's loop asks between rounds
    and must outlive a database that is away for a moment."""
    try:
        with session_scope() as session:
            own = session.exec(select(Plan.idle_stop_minutes).where(Plan.idle_stop_minutes.is_not(None))).all()
    except (SQLAlchemyError, DatabaseUnavailable):
        log.warning("reading the plans' idle timeouts failed", exc_info=True)
        own = []
    return [limit for limit in map(_minutes, [get_settings().idle_stop_minutes, *own]) if limit]


def check_interval_s() -> float:
    """How often to flush and cull: every minute, or twice per timeout when that is shorter."""
    longest = get_settings().idle_check_seconds
    return min([longest, *(limit.total_seconds() / 2 for limit in timeouts())])


def idle_containers(now: datetime | None = None) -> list[IdleContainer]:
    """Running containers of users not exempt, with no request and no start within their plan's timeout."""
    now = now or utcnow()
    started = func.coalesce(Container.started_at, Container.created_at)
    with session_scope() as session:
        default_plan = plans.default_plan(session)
        rows = session.exec(
            select(User.username, Container.last_activity_at, started, Plan.idle_stop_minutes)
            .join(User, User.id == Container.user_id)
            .join(Plan, Plan.id == func.coalesce(User.plan_id, default_plan.id))
            .where(Container.state == ContainerState.RUNNING.value, ~User.idle_exempt)
            .order_by(User.username)
        ).all()
    panel_minutes = get_settings().idle_stop_minutes
    found = []
    for username, last, start, plan_minutes in rows:
        limit = _minutes(panel_minutes if plan_minutes is None else plan_minutes)
        if limit is not None and (last is None or last < now - limit) and start < now - limit:
            found.append(IdleContainer(username, max(filter(None, (last, start)))))
    return found


def _stop(username: str, reason: str) -> None:
    # One row per idle stop: control logs it as the system's idle_stop, with the reason.
    provisioning.control(username, "stop", actor=activity.SYSTEM_ACTOR, logged_as=activity.Action.IDLE_STOP, details=reason)


def cull(now: datetime | None = None, stop: Callable[[str, str], None] | None = None) -> list[str]:
    """Stop every idle container (see `idle_containers`) with `stop(username, reason)`;
    returns the owners stopped."""
    now, stop = now or utcnow(), stop or _stop
    stopped = []
    for idle in idle_containers(now):
        seconds = int((now - idle.idle_since).total_seconds())
        quiet = f"{seconds // 60} minutes" if seconds >= 120 else f"{seconds} seconds"
        try:
            stop(idle.username, f"no request through the edge for {quiet}")
        except Exception as exc:  # noqa: BLE001 - one app that cannot be stopped must not spare the others
            log.warning("idle stop of %s failed: %s", idle.username, exc)
            continue
        stopped.append(idle.username)
    return stopped


def culler_lease() -> coordination.Lease:
    return coordination.collector_lease(ttl_s=3 * check_interval_s(), key=LEASE_KEY)


def tick(lease: coordination.Lease, now: datetime | None = None, stop: Callable[[str, str], None] | None = None) -> list[str]:
    """One round on one worker: flush what this worker saw; cull if it holds the lease.

    A failed flush keeps its times for the next round and does not hold up the cull."""
    try:
        flush()
    except Exception:  # noqa: BLE001 - the database may be away for a moment
        log.exception("flushing the edge's activity failed")
    return cull(now, stop) if lease.acquire_or_renew() else []
