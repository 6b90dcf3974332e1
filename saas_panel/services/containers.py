"""The admin console's container table, per-row and bulk actions, and the detail view.

Start, stop, restart and delete go through `provisioning.control` and
`provisioning.deprovision`, so an admin's action follows exactly the path a
user's own does; the activity row names the admin as actor and the owner as
target.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import func, or_, select

from saas_panel.db import session_scope
from saas_panel.errors import ContainerNotFound, DomainError, EngineUnavailable, NotFound, ValidationError
from saas_panel.models import Container, Node, Outcome, Plan, User
from saas_panel.runtime import ContainerRuntime, get_runtime
from saas_panel.services import activity, plans, provisioning, text_search
from saas_panel.services.auth import CurrentUser
from saas_panel.services.provisioning import ContainerAction, parse_action
from saas_panel.services.query import Page, contains_any, count_of, fetch_page, is_set, page_number, per_page

MAX_BULK = 100
BULK_WORKERS = 4
LOG_TAIL_MAX = 1000
MB = 1024 * 1024
CONTAINER_SORTS = {
    "name": Container.name,
    "owner": User.username,
    "image": Container.image,
    "state": Container.state,
    "created_at": Container.created_at,
    "started_at": Container.started_at,
    "host_port": Container.host_port,
    "last_activity_at": Container.last_activity_at,
    "storage": User.storage_used_bytes,
    "node": Container.node,
}


@dataclass(frozen=True)
class ContainerQuery:
    search: str = ""  # substring of container name or owner
    state: str = ""
    owner: str = ""  # substring of the owner's username
    image: str = ""  # substring of the image
    node: str = ""  # substring of the node's hostname
    sort: str = "created_at"
    descending: bool = True
    page: int = 1
    per_page: int = 25


@dataclass(frozen=True)
class ContainerRow:
    """One line of the admin's table: the container's row, with the last visit and the owner's storage."""

    id: int
    name: str
    owner: str  # "" when the owner was deleted
    image: str
    state: str
    host_port: int | None
    engine_id: str | None
    created_at: datetime
    started_at: datetime | None
    last_activity_at: datetime | None  # the last request through the edge
    error: str
    storage_used_bytes: int | None = None  # the owner's files as last measured; None: not yet, or no owner
    storage_mb: int | None = None  # the owner's plan's storage
    node: str | None = None  # the host it runs on, on an engine of several
    node_down: bool = False  # that host was last seen down


def _table_row(row: Container, owner: str | None, used_bytes: int | None, storage_mb: int | None, node_ready: bool | None) -> ContainerRow:
    return ContainerRow(
        id=row.id,
        name=row.name,
        owner=owner or "",
        image=row.image,
        state=row.state,
        host_port=row.host_port,
        engine_id=row.engine_id,
        created_at=row.created_at,
        started_at=row.started_at,
        last_activity_at=row.last_activity_at,
        error=row.error or "",
        storage_used_bytes=used_bytes,
        storage_mb=storage_mb,
        node=row.node,
        node_down=node_ready is False,
    )


def _filters(statement, query: ContainerQuery):
    if query.search and query.search.strip():
        owners = select(User.id).where(text_search.matching(text_search.USERS, User, query.search))
        statement = statement.where(
            or_(text_search.matching(text_search.CONTAINERS, Container, query.search), Container.user_id.in_(owners))
        )
    if is_set(query.state):
        statement = statement.where(Container.state == query.state)
    if query.owner and query.owner.strip():
        statement = statement.where(contains_any(query.owner, User.username))
    if query.image and query.image.strip():
        statement = statement.where(contains_any(query.image, Container.image))
    if query.node and query.node.strip():
        statement = statement.where(contains_any(query.node, Container.node))
    return statement


def _table_rows(session):
    """Containers with their owner's username, last measured storage and plan's storage (an orphan
    has none), and whether their node is ready (None: no node, or one not recorded)."""
    owners_plan = Plan.id == func.coalesce(User.plan_id, plans.default_plan(session).id)
    return (
        select(Container, User.username, User.storage_used_bytes, Plan.storage_mb, Node.ready)
        .outerjoin(User, User.id == Container.user_id)
        .outerjoin(Plan, owners_plan & User.id.is_not(None))
        .outerjoin(Node, Node.hostname == Container.node)
    )


def list_containers(query: ContainerQuery) -> Page[ContainerRow]:
    size, wanted = per_page(query.per_page), page_number(query.page)
    column = CONTAINER_SORTS.get(query.sort, Container.created_at)
    order = [column.desc() if query.descending else column.asc(), Container.id]
    counted = count_of(_filters(select(Container.id).outerjoin(User, User.id == Container.user_id), query))
    with session_scope() as session:
        statement = _filters(_table_rows(session), query)
        rows, total, page = fetch_page(session, statement.order_by(*order), counted, wanted, size, id_column=Container.id)
    return Page(rows=[_table_row(*row) for row in rows], total=total, page=page, per_page=size)


def _owner_of(container_id: int) -> tuple[Container, str | None]:
    with session_scope() as session:
        row = session.get(Container, int(container_id))
        if row is None:
            raise NotFound("This container no longer exists.")
        owner = session.get(User, row.user_id) if row.user_id else None
        return row, owner.username if owner else None


def get(container_id: int) -> ContainerRow:
    """One container's line of the table, as the panel last saw it (no engine call)."""
    with session_scope() as session:
        found = session.exec(_table_rows(session).where(Container.id == int(container_id))).first()
    if found is None:
        raise NotFound("This container no longer exists.")
    return _table_row(*found)


def act(admin: CurrentUser, container_id: int, action: ContainerAction | str, ip: str | None = None, runtime: ContainerRuntime | None = None) -> str:
    """Start, stop, restart or delete one container as `admin`; returns its name."""
    action = parse_action(action)
    row, owner = _owner_of(container_id)
    if owner is not None:
        if action is ContainerAction.DELETE:
            provisioning.deprovision(owner, actor=admin.username, ip=ip, runtime=runtime)
        else:
            provisioning.control(owner, action, actor=admin.username, ip=ip, runtime=runtime)
        return row.name
    if action is not ContainerAction.DELETE:  # an orphan row (owner deleted): it can only be cleaned up
        raise NotFound("This container has no owner any more; it can only be deleted.")
    (runtime or get_runtime()).remove(row.engine_id or row.name)
    with session_scope() as session:
        orphan = session.get(Container, row.id)
        if orphan is not None:
            session.delete(orphan)
        activity.record(activity.Action.REMOVE_CONTAINER, actor=admin.username, target=row.name, ip=ip, session=session, target_is_account=False)
    return row.name


@dataclass(frozen=True)
class BulkResult:
    done: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (container id or name, reason)

    @property
    def summary(self) -> str:
        text = f"{len(self.done)} done"
        if self.failed:
            text += f", {len(self.failed)} failed ({self.failed[0][0]}: {self.failed[0][1]})"
        return text


def bulk(admin: CurrentUser, container_ids: list, action: ContainerAction | str, ip: str | None = None, runtime: ContainerRuntime | None = None) -> BulkResult:
    """Apply `action` to up to MAX_BULK containers, a few at a time; one failure does not stop the rest."""
    action = parse_action(action)
    try:
        ids = list(dict.fromkeys(int(i) for i in container_ids))
    except (TypeError, ValueError):
        raise ValidationError("selection", "The selection is not a list of containers.") from None
    if not ids:
        raise ValidationError("selection", "Select at least one container.")
    if len(ids) > MAX_BULK:
        raise ValidationError("selection", f"Select at most {MAX_BULK} containers at a time.")
    runtime = runtime or get_runtime()

    def one(container_id: int):
        try:
            return act(admin, container_id, action, ip, runtime), None
        except DomainError as exc:
            return str(container_id), str(exc)

    with ThreadPoolExecutor(max_workers=BULK_WORKERS) as pool:
        outcomes = list(pool.map(one, ids))
    result = BulkResult(
        done=[name for name, error in outcomes if error is None],
        failed=[(name, error) for name, error in outcomes if error is not None],
    )
    activity.record(
        action.bulk_logged_as,
        actor=admin.username,
        target=f"{len(ids)} containers",
        target_is_account=False,
        ip=ip,
        outcome=Outcome.SUCCESS if not result.failed else Outcome.FAILURE,
        details=result.summary,
    )
    return result


@dataclass(frozen=True)
class ContainerDetail:
    """The admin's detail dialog: the row joined with a fresh inspect (None where it had nothing) and the log tail."""

    id: int
    name: str
    owner: str  # "" when the owner was deleted
    image: str
    state: str
    engine_state: str  # what the engine says now, or why it could not say
    engine_id: str | None
    host_port: int | None
    mem_limit_mb: int | None
    cpu_limit: float | None
    pids_limit: int | None
    created_at: datetime
    started_at: datetime | None
    error: str
    labels: list[tuple[str, str]]
    logs: str
    node: str | None = None  # the host it runs on, on an engine of several


def detail(container_id: int, tail: int = 100, runtime: ContainerRuntime | None = None) -> ContainerDetail:
    """The row, a fresh inspect and the last `tail` log lines (engine failures become words)."""
    runtime = runtime or get_runtime()
    row, owner = _owner_of(container_id)
    tail = min(max(1, int(tail)), LOG_TAIL_MAX)
    info, logs = None, ""
    try:
        info = runtime.inspect(row.engine_id or row.name)
        logs = runtime.logs(info.id, tail=tail) or "(no output yet)"
        engine_state = info.state
    except ContainerNotFound:
        engine_state, logs = "not found in the engine", "(the container does not exist in the engine)"
    except EngineUnavailable as exc:
        engine_state, logs = "engine unavailable", str(exc)
    except DomainError as exc:
        engine_state, logs = "unknown", str(exc)
    return ContainerDetail(
        id=row.id,
        name=row.name,
        owner=owner or "",
        image=row.image,
        state=row.state,
        engine_state=engine_state,
        engine_id=info.id if info else row.engine_id,
        host_port=info.host_port if info else row.host_port,
        mem_limit_mb=info.mem_limit_bytes // MB if info and info.mem_limit_bytes else None,
        cpu_limit=info.cpu_limit if info else None,
        pids_limit=info.pids_limit if info else None,
        created_at=row.created_at,
        started_at=info.started_at if info else row.started_at,
        error=row.error or "",
        labels=sorted((info.labels if info else {}).items()),
        logs=logs,
        node=(info.node if info else None) or row.node,
    )
