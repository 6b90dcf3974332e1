"""The audit trail: every action by users, admins and the system."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import Enum

from sqlalchemy import and_, or_
from sqlmodel import Session, delete, select

from saas_panel.db import session_scope
from saas_panel.errors import ValidationError
from saas_panel.models import ActivityLog, Outcome, User
from saas_panel.presentation import timestamp
from saas_panel.services import text_search
from saas_panel.services.query import Page, count_of, fetch_page, fetch_page_one_scan, is_set, page_number, per_page

SYSTEM_ACTOR = "system"


class Action(str, Enum):
    """Every action the log can hold: rows are written only with these, never with client text."""

    SIGNUP = "signup"
    LOGIN = "login"
    LOGOUT = "logout"
    CHANGE_PASSWORD = "change_password"
    CREATE_ADMIN = "create_admin"
    CREATE_USER = "create_user"
    ENABLE_USER = "enable_user"
    DISABLE_USER = "disable_user"
    PROMOTE_USER = "promote_user"
    DEMOTE_USER = "demote_user"
    RESET_PASSWORD = "reset_password"
    SET_LIMITS = "set_limits"
    DELETE_USER = "delete_user"
    PROVISION = "provision"
    START = "start"
    STOP = "stop"
    RESTART = "restart"
    REMOVE_CONTAINER = "remove_container"
    REMOVE_DATA = "remove_data"
    EXPORT_DATA = "export_data"
    BULK_START = "bulk_start"
    BULK_STOP = "bulk_stop"
    BULK_RESTART = "bulk_restart"
    BULK_DELETE = "bulk_delete"
    CONTAINER_RUNNING = "container_running"
    CONTAINER_STOPPED = "container_stopped"
    CONTAINER_MISSING = "container_missing"
    CONTAINER_ERROR = "container_error"
    CREATE_API_TOKEN = "create_api_token"
    REVOKE_API_TOKEN = "revoke_api_token"
    VIEW_ACTIVITY = "view_activity"
    EXPORT_ACTIVITY = "export_activity"
    VIEW_CONTAINERS = "view_containers"
    VIEW_CONTAINER = "view_container"
    VIEW_USERS = "view_users"
    VIEW_OVERVIEW = "view_overview"
    VIEW_API_TOKENS = "view_api_tokens"
    VIEW_PLANS = "view_plans"
    API_GET = "api_get"
    API_POST = "api_post"
    API_PUT = "api_put"
    API_PATCH = "api_patch"
    API_DELETE = "api_delete"
    PURGE = "purge"
    VISIT_APP = "visit_app"
    IDLE_STOP = "idle_stop"
    SET_IDLE_EXEMPT = "set_idle_exempt"
    CREATE_PLAN = "create_plan"
    UPDATE_PLAN = "update_plan"
    CHANGE_PLAN = "change_plan"
    STORAGE_WARNING = "storage_warning"
    STORAGE_FULL = "storage_full"
    NODE_DOWN = "node_down"  # target: the node's hostname
    NODE_UP = "node_up"
    NODE_DRAINED = "node_drained"  # target: the node's hostname; an operator took it out of service
    NODE_ACTIVE = "node_active"  # ... and put it back
    APP_NODE_DOWN = "app_node_down"  # target: a user whose app is on that node
    APP_NODE_UP = "app_node_up"
    RELOCATE_APP = "relocate_app"  # target: a user whose app left a drained node
    BACKUP = "backup"  # target: the backup file's path
    RESTORE = "restore"
    CREATE_ALERT_RULE = "create_alert_rule"  # target: the rule's name
    UPDATE_ALERT_RULE = "update_alert_rule"
    DELETE_ALERT_RULE = "delete_alert_rule"
    VIEW_ALERTS = "view_alerts"
    ALERT_FIRING = "alert_firing"  # by the system; target: the user whose app crossed the threshold
    ALERT_RESOLVED = "alert_resolved"


def _account_ids(session: Session, *names: str | None) -> dict[str, int]:
    wanted = [name for name in names if name and name != SYSTEM_ACTOR]
    if not wanted:
        return {}
    return dict(session.exec(select(User.username, User.id).where(User.username.in_(wanted))).all())


def _write(session: Session, row: ActivityLog, target_is_account: bool) -> None:
    ids = _account_ids(session, row.actor, row.target if target_is_account else None)
    if row.actor != SYSTEM_ACTOR and row.actor not in ids:
        # Only an account that exists (it authenticated to get here) or the system acts.
        raise ValueError(f"activity actor {row.actor!r} is neither an account nor the system")
    row.actor_id, row.target_id = ids.get(row.actor), ids.get(row.target) if target_is_account else None
    session.add(row)


def record(
    action: Action | str,
    *,
    actor: str | None,
    target: str | None = None,
    ip: str | None = None,
    outcome: Outcome | str = Outcome.SUCCESS,
    details: str | None = None,
    session: Session | None = None,
    target_is_account: bool = True,
) -> None:
    """Write one activity row, inside `session` if given (so it commits with the action).

    `actor` is the username of the authenticated account acting, or SYSTEM_ACTOR for what the
    platform does itself (including refusing unauthenticated attempts); `action` must be an
    Action (its value is accepted too, and checked). `target` is a username unless
    `target_is_account` is False (a token's or a container's name, a path).
    """
    row = ActivityLog(
        actor=(actor or SYSTEM_ACTOR)[:64],
        action=Action(action).value,
        target=target[:128] if target else None,
        ip=ip[:64] if ip else None,
        outcome=outcome.value if isinstance(outcome, Outcome) else Outcome(outcome).value,
        details=details[:1000] if details else None,
    )
    if session is not None:
        _write(session, row, target_is_account)
        return
    with session_scope() as own:
        _write(own, row, target_is_account)


def purge(retention_days: int, now: datetime | None = None) -> int:
    """Delete rows older than the retention period; returns how many went."""
    cutoff = (now or datetime.now(timezone.utc)) - timedelta(days=retention_days)
    with session_scope() as session:
        return session.exec(delete(ActivityLog).where(ActivityLog.created_at < cutoff)).rowcount or 0


# --- the admin console's activity log ----------------------------------------

EXPORT_MAX_ROWS = 50_000
EXPORT_CHUNK_ROWS = 1_000
CSV_HEADER = ("time_utc", "actor", "action", "target", "ip", "outcome", "details")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ActivityQuery:
    search: str = ""  # substring of actor, action, target, IP or details
    actor: str = ""  # exact username (or "system"/"anonymous")
    action: str = ""  # exact action
    target: str = ""  # exact target
    outcome: str = ""
    date_from: str = ""  # YYYY-MM-DD, inclusive (UTC)
    date_to: str = ""  # YYYY-MM-DD, inclusive (UTC)
    page: int = 1
    per_page: int = 25


@dataclass(frozen=True)
class ActivityRow:
    id: int
    time: datetime
    actor: str
    action: str
    target: str
    ip: str
    outcome: str
    details: str


def _day(raw: str, label: str) -> datetime:
    try:
        return datetime.strptime(raw.strip(), "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise ValidationError(label, f"{label} must be a date like 2026-01-31.") from None


def _filtered(statement, query: ActivityQuery):
    if query.search and query.search.strip():
        statement = statement.where(text_search.matching(text_search.ACTIVITY, ActivityLog, query.search))
    for column, value in (
        (ActivityLog.actor, query.actor),
        (ActivityLog.action, query.action),
        (ActivityLog.target, query.target),
        (ActivityLog.outcome, query.outcome),
    ):
        if is_set(value) and value.strip():
            statement = statement.where(column == value.strip())
    if query.date_from:
        statement = statement.where(ActivityLog.created_at >= _day(query.date_from, "From"))
    if query.date_to:
        end = _day(query.date_to, "To")
        if end.date() < date.max:  # the last representable day has no next day: nothing is after it
            statement = statement.where(ActivityLog.created_at < end + timedelta(days=1))
    return statement.order_by(ActivityLog.created_at.desc(), ActivityLog.id.desc())


def _row(log: ActivityLog) -> ActivityRow:
    return ActivityRow(
        id=log.id,
        time=log.created_at,
        actor=log.actor,
        action=log.action,
        target=log.target or "",
        ip=log.ip or "",
        outcome=log.outcome,
        details=log.details or "",
    )


def search(query: ActivityQuery) -> Page[ActivityRow]:
    """One page of the log, newest first, filtered and counted in SQL."""
    size, wanted = per_page(query.per_page), page_number(query.page)
    statement = _filtered(select(ActivityLog), query)
    counted = count_of(_filtered(select(ActivityLog.id), query))
    with session_scope() as session:
        if query.search and query.search.strip():
            rows, total, page = fetch_page_one_scan(session, statement, counted, wanted, size)
        else:
            rows, total, page = fetch_page(session, statement, counted, wanted, size, id_column=ActivityLog.id)
    return Page(rows=[_row(log) for log in rows], total=total, page=page, per_page=size)


def recent(limit: int = 10) -> list[ActivityRow]:
    with session_scope() as session:
        rows = session.exec(select(ActivityLog).order_by(ActivityLog.created_at.desc(), ActivityLog.id.desc()).limit(limit)).all()
    return [_row(log) for log in rows]


def timeline(username: str, limit: int = 20) -> list[ActivityRow]:
    """What the account now named `username` did and what was done to it (by admins and the
    system), newest first. Rows are matched by account id, and only from the account's
    creation on: an id SQLite hands out again after a deletion inherits nothing."""
    with session_scope() as session:
        user = session.exec(select(User.id, User.created_at).where(User.username == username)).first()
        if user is None:
            return []
        user_id, since = user
        rows = session.exec(
            select(ActivityLog)
            .where(or_(ActivityLog.actor_id == user_id, ActivityLog.target_id == user_id), ActivityLog.created_at >= since)
            .order_by(ActivityLog.created_at.desc(), ActivityLog.id.desc())
            .limit(limit)
        ).all()
    return [_row(log) for log in rows]


def actions(limit: int = 200) -> list[str]:
    """The distinct actions in the log (for the filter menu); read from the action index."""
    with session_scope() as session:
        return list(session.exec(select(ActivityLog.action).distinct().order_by(ActivityLog.action).limit(limit)).all())


def csv_safe(value: object) -> str:
    """A cell a spreadsheet will not run: text starting with = + - @ (or tab/CR) gets a leading quote.

    Spreadsheets skip leading whitespace (spaces, newlines, unicode spaces) before a formula, so it counts too.
    """
    text = "" if value is None else str(value)
    risky = text.startswith(FORMULA_PREFIXES) or text.lstrip().startswith(FORMULA_PREFIXES)
    return "'" + text if risky else text


def _after(log: ActivityLog):
    """Rows after `log` in newest-first order: keyset paging, no growing OFFSET."""
    return or_(
        ActivityLog.created_at < log.created_at,
        and_(ActivityLog.created_at == log.created_at, ActivityLog.id < log.id),
    )


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def iter_csv(query: ActivityQuery, max_rows: int = EXPORT_MAX_ROWS) -> Iterator[str]:
    """The filtered log as CSV text, EXPORT_CHUNK_ROWS rows per chunk, at most `max_rows` rows.

    Each chunk is its own short read, so a long export never holds the database.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    yield _drain(buffer)
    remaining, last = max(0, min(max_rows, EXPORT_MAX_ROWS)), None
    while remaining > 0:
        statement = _filtered(select(ActivityLog), query)
        if last is not None:
            statement = statement.where(_after(last))
        with session_scope() as session:
            chunk = session.exec(statement.limit(min(EXPORT_CHUNK_ROWS, remaining))).all()
        for log in chunk:
            row = _row(log)
            writer.writerow([csv_safe(v) for v in (timestamp(row.time), row.actor, row.action, row.target, row.ip, row.outcome, row.details)])
        yield _drain(buffer)
        if len(chunk) < EXPORT_CHUNK_ROWS:
            return
        remaining -= len(chunk)
        last = chunk[-1]


def export_csv(query: ActivityQuery, max_rows: int = EXPORT_MAX_ROWS) -> str:
    return "".join(iter_csv(query, max_rows))
