"""How the panel writes values for people: moments, sizes, limits, and a value that is not there.

Services return domain values (datetimes, numbers, None). The states turn them
into the text and the dicts their pages show with these functions, so each
format is written once. A presented row keeps its service row's keys; only the
values become text. Datetimes never reach a state var unformatted: Reflex sends
state vars to the browser as JSON.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from saas_panel.services.activity import ActivityRow
    from saas_panel.services.api_tokens import TokenRow
    from saas_panel.services.containers import ContainerDetail, ContainerRow
    from saas_panel.services.metrics import Point
    from saas_panel.services.nodes import NodeRow
    from saas_panel.services.plans import Limits
    from saas_panel.services.storage import Usage
    from saas_panel.services.plans import PlanView
    from saas_panel.services.users import UserRow

PLACEHOLDER = "—"  # a value that is not set or not known
DELETED_OWNER = "(deleted)"
MB = 1024 * 1024
SHORT_ID_CHARS = 12  # an engine id as the engine's own tools abbreviate it


def when(moment: datetime | None) -> str:
    """2026-01-31 14:05"""
    return moment.strftime("%Y-%m-%d %H:%M") if moment else PLACEHOLDER


def when_utc(moment: datetime | None) -> str:
    """2026-01-31 14:05 UTC, for a page that does not say elsewhere that times are UTC."""
    return f"{when(moment)} UTC" if moment else PLACEHOLDER


def timestamp(moment: datetime) -> str:
    """2026-01-31 14:05:09: a line of the activity log."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def clock(moment: datetime) -> str:
    """14:05:09 UTC: when live numbers were last updated."""
    return moment.strftime("%H:%M:%S UTC")


def or_placeholder(value: object) -> str:
    return str(value) if value else PLACEHOLDER


def short_id(engine_id: str | None) -> str:
    return (engine_id or "")[:SHORT_ID_CHARS] or PLACEHOLDER


def megabytes(n_bytes: int) -> float:
    """Bytes as MB with one decimal, the unit of the memory charts."""
    return round(n_bytes / MB, 1)


def memory(mb: int | None) -> str:
    return f"{mb} MB" if mb else PLACEHOLDER


def cpus(count: float | None) -> str:
    return f"{count:g} CPU" if count else PLACEHOLDER


def percent(value: float) -> str:
    return f"{value:g} %"


def size(n_bytes: int) -> str:
    """512 B, 1.5 KB ... 2.0 TB"""
    amount = float(n_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if amount < 1024:
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} TB"


def storage(used_bytes: int | None, quota_mb: int | None) -> str:
    """930 of 1024 MB: a user's files against their plan's storage (the placeholder before the first measure)."""
    return f"{used_bytes // MB} of {quota_mb} MB" if used_bytes is not None and quota_mb else PLACEHOLDER


def storage_percent(used_bytes: int | None, quota_mb: int | None) -> int:
    """How much of the quota is used, in whole percent rounded down (100 only when it is full)."""
    return used_bytes * 100 // (quota_mb * MB) if used_bytes is not None and quota_mb else 0


def idle_stop(minutes: float) -> str:
    return f"after {minutes:g} min without a visit" if minutes > 0 else "never"


def plan_card(limits: Limits, usage: Usage) -> dict[str, str]:
    """A user's plan and their storage, as the dashboard's "Your plan" card writes them."""
    return {
        "name": limits.plan_name,
        "cpu": cpus(limits.cpu_limit),
        "memory": memory(limits.mem_limit_mb),
        "storage": memory(limits.storage_mb),
        "idle_stop": idle_stop(limits.idle_stop_minutes),
        "used": storage(usage.used_bytes, usage.quota_mb),
    }


def chart_points(points: list[Point], over_days: bool = False) -> list[dict]:
    """Samples as the usage charts' points; the time axis names the day when the range spans days."""
    tick = "%m-%d %H:%M" if over_days else "%H:%M:%S"
    return [{"t": p.ts.strftime(tick), "cpu": p.cpu_percent, "mem_mb": megabytes(p.mem_bytes)} for p in points]


def _written(row: Any, write: Callable[[Any], str], *names: str) -> dict:
    """`row` as a dict, the values of `names` written by `write`."""
    values = dataclasses.asdict(row)
    return values | {name: write(values[name]) for name in names}


def user_row(row: UserRow) -> dict:
    return _written(row, when, "created_at", "last_login_at") | {"storage_used_bytes": storage(row.storage_used_bytes, row.storage_mb)}


def plan_row(row: PlanView) -> dict:
    """A plan in the admin's table; an idle stop left blank is the panel's setting."""
    idle = row.idle_stop_minutes
    return dataclasses.asdict(row) | {
        "cpu_limit": cpus(row.cpu_limit),
        "mem_limit_mb": memory(row.mem_limit_mb),
        "storage_mb": memory(row.storage_mb),
        "idle_stop_minutes": "panel's setting" if idle is None else "never" if idle == 0 else f"{idle:g} min",
    }


def token_row(row: TokenRow) -> dict:
    return _written(row, when, "created_at", "expires_at", "last_used_at")


def activity_row(row: ActivityRow) -> dict:
    return _written(row, timestamp, "time")


# The actions whose reason a user's timeline shows: what the system or an admin did to their app, in the panel's words.
EXPLAINED_ON_TIMELINE = frozenset({"storage_warning", "storage_full", "change_plan", "idle_stop", "app_node_down", "app_node_up", "alert_firing", "alert_resolved",
                                   "relocate_app"})


def timeline_row(row: ActivityRow) -> dict:
    """A line of a user's timeline; `note` is empty but for a successful explained action (a
    failure's details may hold the engine's own words, which users are never shown)."""
    explained = row.action in EXPLAINED_ON_TIMELINE and row.outcome == "success"
    return activity_row(row) | {"note": row.details if explained else ""}


def container_row(row: ContainerRow) -> dict:
    return _written(row, when, "created_at", "started_at", "last_activity_at") | {
        "host_port": or_placeholder(row.host_port),
        "storage_used_bytes": storage(row.storage_used_bytes, row.storage_mb),
        "node": or_placeholder(row.node),
    }


def container_detail(detail: ContainerDetail) -> dict:
    """The detail dialog's values; `labels` stay (name, value) pairs."""
    return _written(detail, when, "created_at", "started_at") | {
        "owner": detail.owner or DELETED_OWNER,
        "engine_id": short_id(detail.engine_id),
        "host_port": or_placeholder(detail.host_port),
        "mem_limit_mb": memory(detail.mem_limit_mb),
        "cpu_limit": cpus(detail.cpu_limit),
        "pids_limit": or_placeholder(detail.pids_limit),
        "node": or_placeholder(detail.node),
    }


def node_row(row: NodeRow) -> dict:
    """A node on the admin overview; `updated_at` is when it last changed (for a down node: down since)."""
    return _written(row, when_utc, "first_seen_at", "last_seen_at", "updated_at") | {"address": or_placeholder(row.address)}


def alert_rule_row(row) -> dict:
    """An alert rule in the admin's table (alert_rules.RuleView: it carries no secret)."""
    scope = row.scope if not row.scope_target else f"{row.scope}: {row.scope_target}"
    values = _written(row, when, "updated_at")
    del values["webhook_url"]  # its path or query may hold the receiver's token: only the host is shown
    return values | {
        "condition": f"{row.metric} > {row.threshold:g}%" + (f" for {row.for_seconds} s" if row.for_seconds else ""),
        "scope_label": scope,
        "webhook": urlsplit(row.webhook_url).hostname or "" if row.webhook_url else "",
        "threshold": f"{row.threshold:g}",
    }


def alert_row(row) -> dict:
    return _written(row, when, "fired_at", "resolved_at") | {"condition": f"{row.metric} {row.value:g}% > {row.threshold:g}%"}


def delivery_row(row) -> dict:
    return _written(row, timestamp, "created_at") | {"status_code": or_placeholder(row.status_code), "error": row.error or ""}
