"""Metric history: raw samples for a short window, then one-minute averages kept for days.

The table stays bounded: `compact()` folds raw samples older than the raw
window into rollups and deletes what is past retention.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import delete, func, insert, select

from saas_panel.config import get_settings
from saas_panel.db import session_scope
from saas_panel.models import Metric, utcnow

RAW = 0
ROLLUP_SECONDS = 60
MAX_POINTS = 360  # per series sent to a browser


@dataclass(frozen=True)
class Point:
    ts: datetime
    cpu_percent: float
    mem_bytes: int


def record(samples: list[tuple[int, float, int, int | None]], at: datetime | None = None) -> None:
    """Store one sweep: (container row id, cpu %, memory bytes, memory limit) each, all at one timestamp."""
    if not samples:
        return
    at = at or utcnow()
    rows = [
        {"container_id": cid, "ts": at, "resolution": RAW, "cpu_percent": cpu, "mem_bytes": mem, "mem_limit_bytes": limit}
        for cid, cpu, mem, limit in samples
    ]
    with session_scope() as session:
        session.exec(insert(Metric), params=rows)  # one executemany: no ORM object per sample


def _minute(ts: datetime) -> datetime:
    return ts.replace(second=0, microsecond=0)


def compact(now: datetime | None = None) -> tuple[int, int]:
    """Roll raw samples past the raw window into one-minute averages; drop expired rows.

    Returns (raw rows folded, rows deleted past retention).
    """
    settings = get_settings()
    now = now or utcnow()
    cutoff = _minute(now - timedelta(minutes=settings.metrics_raw_minutes))
    with session_scope() as session:
        old = session.exec(
            select(Metric.container_id, Metric.ts, Metric.cpu_percent, Metric.mem_bytes, Metric.mem_limit_bytes)
            .where(Metric.resolution == RAW, Metric.ts < cutoff)
        ).all()
        buckets: dict[tuple[int, datetime], list] = defaultdict(list)
        for cid, ts, cpu, mem, limit in old:
            buckets[(cid, _minute(ts))].append((cpu, mem, limit))
        session.add_all(
            Metric(
                container_id=cid,
                ts=minute,
                resolution=ROLLUP_SECONDS,
                cpu_percent=round(sum(r[0] for r in rows) / len(rows), 2),
                mem_bytes=int(sum(r[1] for r in rows) / len(rows)),
                mem_limit_bytes=rows[-1][2],
            )
            for (cid, minute), rows in buckets.items()
        )
        session.exec(delete(Metric).where(Metric.resolution == RAW, Metric.ts < cutoff))
        expired = session.exec(
            delete(Metric).where(Metric.resolution == ROLLUP_SECONDS, Metric.ts < now - timedelta(days=settings.metrics_rollup_days))
        )
    return len(old), expired.rowcount or 0


def purge(retention_days: int, now: datetime | None = None) -> int:
    """Delete samples older than `retention_days` whatever their resolution; returns how many went."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    with session_scope() as session:
        return session.exec(delete(Metric).where(Metric.ts < cutoff)).rowcount or 0


def _downsample(points: list[Point], max_points: int = MAX_POINTS) -> list[Point]:
    if len(points) <= max_points:
        return points
    step = -(-len(points) // max_points)
    merged = []
    for start in range(0, len(points), step):
        chunk = points[start : start + step]
        merged.append(
            Point(
                ts=chunk[-1].ts,
                cpu_percent=round(sum(p.cpu_percent for p in chunk) / len(chunk), 2),
                mem_bytes=int(sum(p.mem_bytes for p in chunk) / len(chunk)),
            )
        )
    return merged


def container_series(container_id: int, since: timedelta, now: datetime | None = None) -> list[Point]:
    """A container's history over the last `since`: rollups where raw samples are gone, then raw."""
    now = now or utcnow()
    start = now - since
    with session_scope() as session:
        rows = session.exec(
            select(Metric.ts, Metric.cpu_percent, Metric.mem_bytes, Metric.resolution)
            .where(Metric.container_id == container_id, Metric.ts >= start)
            .order_by(Metric.ts)
        ).all()
    first_raw = next((ts for ts, _, _, res in rows if res == RAW), None)
    points = [
        Point(ts, cpu, mem)
        for ts, cpu, mem, res in rows
        if res == RAW or first_raw is None or ts < first_raw
    ]
    return _downsample(points)


def platform_series(since: timedelta, now: datetime | None = None) -> list[Point]:
    """Total CPU and memory of all containers per sweep over the last `since` (raw window only)."""
    now = now or utcnow()
    with session_scope() as session:
        rows = session.exec(
            select(Metric.ts, func.sum(Metric.cpu_percent), func.sum(Metric.mem_bytes))
            .where(Metric.resolution == RAW, Metric.ts >= now - since)
            .group_by(Metric.ts)
            .order_by(Metric.ts)
        ).all()
    return _downsample([Point(ts, round(cpu or 0, 2), int(mem or 0)) for ts, cpu, mem in rows])
