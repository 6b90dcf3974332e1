"""Attempt counters in the database: a sliding window per key, shared by every worker and tab.

Keys name what is counted: "login:user:<name>", "login:ip:<ip>",
"signup:ip:<ip>", "api:token:<id>". One row is one attempt; a refused attempt
is not counted, so a key never holds more than its limit of live rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel import delete, func, select

from saas_panel.db import session_scope
from saas_panel.errors import Throttled
from saas_panel.models import ThrottleHit, utcnow
from saas_panel.services import counters

KEY_MAX_CHARS = 160


@dataclass(frozen=True)
class Limit:
    key: str
    limit: int
    window_seconds: int


def _retry_after(session, limit: Limit, now: datetime) -> int:
    """Seconds until one more attempt fits under `limit`; 0 when it fits now."""
    since = now - timedelta(seconds=limit.window_seconds)
    live = (ThrottleHit.key == limit.key[:KEY_MAX_CHARS]) & (ThrottleHit.created_at > since)
    count = session.exec(select(func.count()).select_from(ThrottleHit).where(live)).one()
    if count < limit.limit:
        return 0
    # The attempt that must expire before the next one fits.
    freeing = session.exec(
        select(ThrottleHit.created_at).where(live).order_by(ThrottleHit.created_at).offset(count - limit.limit).limit(1)
    ).one()
    return max(1, math.ceil((freeing + timedelta(seconds=limit.window_seconds) - now).total_seconds()))


def _serialize(session, keys: list[str]) -> None:
    """Make check-and-count atomic per key. SQLite's BEGIN IMMEDIATE already lets one writer in
    at a time; on PostgreSQL, a transaction-scoped advisory lock per key (taken in sorted
    order, so two attempts never wait on each other crosswise) does the same."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted(set(keys)):
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


def _take(limits: tuple[Limit, ...], now: datetime | None) -> tuple[int, Limit | None]:
    """Count one attempt under every limit, or nothing; returns (seconds to wait, the spent limit)."""
    now = now or utcnow()
    with session_scope() as session:
        _serialize(session, [limit.key[:KEY_MAX_CHARS] for limit in limits])
        waits = [(_retry_after(session, limit, now), limit) for limit in limits]
        wait, spent = max(waits, key=lambda pair: pair[0], default=(0, None))
        if not wait:
            for limit in limits:
                session.add(ThrottleHit(key=limit.key[:KEY_MAX_CHARS], created_at=now))
    return wait, spent if wait else None


def hit(*limits: Limit, now: datetime | None = None) -> None:
    """Count one attempt under every limit, or raise Throttled (counting nothing) if any is spent.

    Check and count share one write transaction, serialized per key, so parallel
    attempts cannot all slip through on the same last free slot. A refusal is
    counted for /metrics under the spent key's kind ("login", "api", ...).
    """
    wait, spent = _take(limits, now)
    if wait:
        counters.add(f"{counters.THROTTLED}:{spent.key.split(':', 1)[0]}")
        raise Throttled(wait)


def once(key: str, window_seconds: int) -> bool:
    """True the first time in each window for `key`: bounds how often an unauthenticated client
    can make the system write something (a refusal in the activity log)."""
    wait, _ = _take((Limit(key, 1, window_seconds),), None)
    return not wait


def clear(key: str) -> None:
    with session_scope() as session:
        session.exec(delete(ThrottleHit).where(ThrottleHit.key == key[:KEY_MAX_CHARS]))


def purge(max_age_seconds: int, now: datetime | None = None) -> int:
    """Delete attempts older than every window; returns how many rows went."""
    cutoff = (now or utcnow()) - timedelta(seconds=max_age_seconds)
    with session_scope() as session:
        result = session.exec(delete(ThrottleHit).where(ThrottleHit.created_at < cutoff))
        return result.rowcount or 0
