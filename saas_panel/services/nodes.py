"""The hosts of an engine that spans several (Swarm nodes): their rows, and the log when one goes or comes back.

The collector calls `sync` once per sweep with the engine's list of nodes (only when the
engine reports any: a single-host engine has none, and this table stays empty). A node that
stops being ready, or leaves the engine's list, is logged once as `node_down` by the system,
with a line (`app_node_down`) on the timeline of each user whose app is on it; `node_up`
and `app_node_up` when it is back. A node gone from the list stays (shown down) while apps
are on it (their files are there), and goes when none is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case
from sqlmodel import Session, func, select

from saas_panel.db import session_scope
from saas_panel.models import Container, ContainerState, Node, User, utcnow
from saas_panel.runtime import NodeInfo
from saas_panel.services import activity

APP_DOWN_NOTE = "the server your app runs on is not answering; your files are kept on it and come back with it, and an administrator has been told"
APP_UP_NOTE = "the server your app runs on answers again"


@dataclass(frozen=True)
class NodeChange:
    """A node that went down (`down`) or came back during one sync, with the owners of the apps on it."""

    hostname: str
    down: bool
    owners: list[str]


@dataclass(frozen=True)
class NodeRow:
    """One node of the admin overview, with the apps (container rows) on it."""

    hostname: str
    address: str
    role: str
    ready: bool
    available: bool
    apps: int
    running: int
    first_seen_at: datetime
    last_seen_at: datetime | None
    updated_at: datetime


def _by_hostname(infos: list[NodeInfo]) -> dict[str, NodeInfo]:
    """One entry per hostname: a node that left and joined again is listed twice by Swarm
    (the old entry down, the new one ready) and is ready."""
    merged: dict[str, NodeInfo] = {}
    for info in infos:
        known = merged.get(info.hostname)
        if known is None or (info.ready, info.available) > (known.ready, known.available):
            merged[info.hostname] = info
    return merged


def _apps_on(session: Session, hostname: str) -> list[tuple[str | None, str]]:
    """(owner, state) of each container row on the node (owner None: the account was deleted)."""
    return list(session.exec(
        select(User.username, Container.state).join(User, User.id == Container.user_id, isouter=True).where(Container.node == hostname)
    ).all())


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _log_change(session: Session, node: Node, down: bool, vanished: bool = False) -> NodeChange:
    apps = _apps_on(session, node.hostname)
    owners = sorted({owner for owner, _ in apps if owner})
    running = sum(1 for _, state in apps if state == ContainerState.RUNNING.value)
    details = f"{node.address or 'no address'}; {_plural(len(apps), 'app')} on it ({running} running)"
    if vanished:
        details += "; no longer in the engine's list of nodes"
    activity.record(activity.Action.NODE_DOWN if down else activity.Action.NODE_UP, actor=activity.SYSTEM_ACTOR,
                    target=node.hostname, details=details, session=session, target_is_account=False)
    for owner in owners:
        activity.record(activity.Action.APP_NODE_DOWN if down else activity.Action.APP_NODE_UP, actor=activity.SYSTEM_ACTOR,
                        target=owner, details=APP_DOWN_NOTE if down else APP_UP_NOTE, session=session)
    return NodeChange(hostname=node.hostname, down=down, owners=owners)


def _log_availability(session: Session, node: Node) -> None:
    """A drain (or its end) is an operator's act on the engine, not through the panel: the system logs what it saw."""
    apps = len(_apps_on(session, node.hostname))
    details = (f"takes no new apps; {_plural(apps, 'app')} on it to move elsewhere" if not node.available
               else "takes apps again")
    activity.record(activity.Action.NODE_ACTIVE if node.available else activity.Action.NODE_DRAINED, actor=activity.SYSTEM_ACTOR,
                    target=node.hostname, details=details, session=session, target_is_account=False)


def sync(infos: list[NodeInfo], now: datetime | None = None) -> list[NodeChange]:
    """Store the engine's nodes; log each one that went down or came back, or was drained or put
    back, since the last sync.

    A node first seen down (or drained) is logged so; one first seen ready (or active) is not logged."""
    now = now or utcnow()
    listed = _by_hostname(infos)
    changes: list[NodeChange] = []
    with session_scope() as session:
        rows = {row.hostname: row for row in session.exec(select(Node)).all()}
        for hostname, info in listed.items():
            row = rows.get(hostname)
            was_ready = True if row is None else row.ready
            was_available = True if row is None else row.available
            if row is None:
                row = Node(hostname=hostname, first_seen_at=now, updated_at=now)
                session.add(row)
            seen = (info.address[:64], info.role[:16], info.ready, info.available)
            if (row.address, row.role, row.ready, row.available) != seen:
                row.address, row.role, row.ready, row.available = seen
                row.updated_at = now
            if info.ready:
                row.last_seen_at = now
            if info.ready != was_ready:
                changes.append(_log_change(session, row, down=not info.ready))
            if info.available != was_available:
                _log_availability(session, row)
        for hostname, row in rows.items():
            if hostname in listed:
                continue
            if row.ready:
                row.ready, row.updated_at = False, now
                changes.append(_log_change(session, row, down=True, vanished=True))
            elif not _apps_on(session, hostname):
                session.delete(row)
    return changes


def overview() -> list[NodeRow]:
    """Every node the panel knows, by hostname, with how many apps are on it and how many run."""
    apps = (
        select(
            Container.node.label("node"),
            func.count().label("apps"),
            func.sum(case((Container.state == ContainerState.RUNNING.value, 1), else_=0)).label("running"),
        )
        .where(Container.node.is_not(None))
        .group_by(Container.node)
        .subquery()
    )
    statement = (
        select(Node, func.coalesce(apps.c.apps, 0), func.coalesce(apps.c.running, 0))
        .outerjoin(apps, apps.c.node == Node.hostname)
        .order_by(Node.hostname)
    )
    with session_scope() as session:
        rows = session.exec(statement).all()
    return [
        NodeRow(
            hostname=node.hostname,
            address=node.address,
            role=node.role,
            ready=node.ready,
            available=node.available,
            apps=int(count),
            running=int(running),
            first_seen_at=node.first_seen_at,
            last_seen_at=node.last_seen_at,
            updated_at=node.updated_at,
        )
        for node, count, running in rows
    ]


def node_down(hostname: str | None) -> bool:
    """Whether the panel last saw the node `hostname` down (False for no node, or one it does not know)."""
    if not hostname:
        return False
    with session_scope() as session:
        ready = session.exec(select(Node.ready).where(Node.hostname == hostname)).first()
    return ready is False
