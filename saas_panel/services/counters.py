"""Deployment-wide counters and gauges in the database, shared by every backend worker.

A login failure counted by one worker and a sweep timed by the collector's
worker are both seen by whichever worker answers a scrape of /metrics. Adding
is one atomic upsert (`INSERT ... ON CONFLICT DO UPDATE value = value + n`), so
parallel workers never lose a count. A histogram is a set of counters, one per
bucket, plus its sum and count (the Prometheus layout).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import select

from saas_panel.db import session_scope
from saas_panel.models import Counter, utcnow

LOGIN_FAILURES = "login_failures"
THROTTLED = "throttled"  # attempts refused by a throttle, by throttle kind: "throttled:login"
PROVISION_SECONDS = "provision_seconds"
SWEEP_SECONDS = "collector_sweep_seconds"  # a gauge: the last sweep's duration
LAST_SWEEP_AT = "collector_last_sweep"  # a gauge: the last sweep's end, seconds since the epoch

PROVISION_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


def _upsert(session, name: str, value: float, add: bool) -> None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(Counter).values(name=name, value=value, updated_at=utcnow())
    new_value = (Counter.value + statement.excluded.value) if add else statement.excluded.value
    session.exec(
        statement.on_conflict_do_update(
            index_elements=[Counter.name], set_={"value": new_value, "updated_at": statement.excluded.updated_at}
        )
    )


def add(name: str, amount: float = 1.0) -> None:
    with session_scope() as session:
        _upsert(session, name, amount, add=True)


def set_gauge(values: dict[str, float]) -> None:
    with session_scope() as session:
        for name, value in values.items():
            _upsert(session, name, value, add=False)


def observe(name: str, value: float, buckets: Sequence[float]) -> None:
    """One observation of a histogram: every bucket it falls in, the sum and the count, in one transaction."""
    with session_scope() as session:
        for bound in buckets:
            if value <= bound:
                _upsert(session, f"{name}:le:{bound}", 1, add=True)
        _upsert(session, f"{name}:sum", value, add=True)
        _upsert(session, f"{name}:count", 1, add=True)


def read_all() -> dict[str, float]:
    with session_scope() as session:
        return dict(session.exec(select(Counter.name, Counter.value)).all())


def histogram(values: dict[str, float], name: str, buckets: Sequence[float]) -> tuple[list[tuple[str, float]], float]:
    """(cumulative buckets as Prometheus wants them, ending with +Inf; the sum) from `read_all()`."""
    count = values.get(f"{name}:count", 0.0)
    pairs = [(str(bound), values.get(f"{name}:le:{bound}", 0.0)) for bound in buckets]
    return pairs + [("+Inf", count)], values.get(f"{name}:sum", 0.0)
