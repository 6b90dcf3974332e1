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

if TYPE_CHECKING:
    from saas_panel.services.activity import ActivityRow
    from saas_panel.services.api_tokens import TokenRow
    from saas_panel.services.containers import ContainerDetail, ContainerRow
    from saas_panel.services.metrics import Point
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


def chart_points(points: list[Point], over_days: bool = False) -> list[dict]:
    """Samples as the usage charts' points; the time axis names the day when the range spans days."""
    tick = "%m-%d %H:%M" if over_days else "%H:%M:%S"
    return [{"t": p.ts.strftime(tick), "cpu": p.cpu_percent, "mem_mb": megabytes(p.mem_bytes)} for p in points]


def _written(row: Any, write: Callable[[Any], str], *names: str) -> dict:
    """`row` as a dict, the values of `names` written by `write`."""
    values = dataclasses.asdict(row)
    return values | {name: write(values[name]) for name in names}


def user_row(row: UserRow) -> dict:
    return _written(row, when, "created_at", "last_login_at")


def token_row(row: TokenRow) -> dict:
    return _written(row, when, "created_at", "expires_at", "last_used_at")


def activity_row(row: ActivityRow) -> dict:
    return _written(row, timestamp, "time")


def container_row(row: ContainerRow) -> dict:
    return _written(row, when, "created_at", "started_at", "last_activity_at") | {"host_port": or_placeholder(row.host_port)}


def container_detail(detail: ContainerDetail) -> dict:
    """The detail dialog's values; `labels` stay (name, value) pairs."""
    return _written(detail, when, "created_at", "started_at") | {
        "owner": detail.owner or DELETED_OWNER,
        "engine_id": short_id(detail.engine_id),
        "host_port": or_placeholder(detail.host_port),
        "mem_limit_mb": memory(detail.mem_limit_mb),
        "cpu_limit": cpus(detail.cpu_limit),
        "pids_limit": or_placeholder(detail.pids_limit),
    }
