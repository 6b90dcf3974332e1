"""The activity log's indexed search finds what a substring scan finds, and the index serves it."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, text
from sqlmodel import select

from saas_panel.db import get_engine, session_scope
from saas_panel.models import ActivityLog
from saas_panel.services import activity
from saas_panel.services.activity import ActivityQuery
from saas_panel.services.query import contains_any

WORDS = ["alice", "Bob", "café", "CAFÉ", 'say "hi"', "50% off", "a_b", "10.0.0.7", "ロボット", "login", "stop", "x"]


def _random_text(rng: random.Random) -> str | None:
    if rng.random() < 0.2:
        return None
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))


@pytest.fixture
def log(db):
    rng = random.Random(7)
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    rows = [
        {
            "created_at": start + timedelta(minutes=i),
            "actor": rng.choice(["alice", "bob", "system", "Ünïcode"]),
            "action": rng.choice(["login", "stop", "signup"]),
            "target": _random_text(rng),
            "ip": rng.choice([None, "10.0.0.7", "192.168.1.20"]),
            "outcome": "success",
            "details": _random_text(rng),
        }
        for i in range(300)
    ]
    with session_scope() as session:
        session.execute(insert(ActivityLog), rows)


def _scanned(search: str) -> list[int]:
    """What the plain substring scan finds, newest first."""
    columns = (ActivityLog.actor, ActivityLog.action, ActivityLog.target, ActivityLog.ip, ActivityLog.details)
    with session_scope() as session:
        ordered = select(ActivityLog.id).where(contains_any(search, *columns)).order_by(ActivityLog.created_at.desc(), ActivityLog.id.desc())
        return list(session.exec(ordered))


# Not "café": SQLite's LIKE folds only ASCII case, the index all of it (next test).
@pytest.mark.parametrize("search", ["alice", "LOGIN", '"hi"', "50%", "a_b", "0.0.7", "ロボッ", "sto", "bob stop", "nothing like it", "x"])
def test_the_index_finds_what_a_scan_finds(log, search):
    scanned = _scanned(search)
    page = activity.search(ActivityQuery(search=search, per_page=100))
    assert [row.id for row in page.rows] == scanned[:100]
    assert page.total == len(scanned)


def test_unicode_case_is_folded(log):
    assert activity.search(ActivityQuery(search="CAFÉ")).total == activity.search(ActivityQuery(search="café")).total > 0


def _add(actor: str, action: str, target: str | None = None, ip: str | None = None, when: datetime | None = None) -> None:
    row = {"actor": actor, "action": action, "target": target, "ip": ip, "outcome": "success"}
    with session_scope() as session:
        session.execute(insert(ActivityLog), [{**row, "created_at": when or datetime.now(timezone.utc)}])


def test_a_match_never_spans_two_columns(db):
    _add("alice", "login", target="bob", ip="10.1.1.1")
    assert activity.search(ActivityQuery(search="login")).total == 1
    assert activity.search(ActivityQuery(search="ceLog")).total == 0  # "alice" then "login"
    assert activity.search(ActivityQuery(search="inbob")).total == 0


def test_new_and_purged_rows_follow_in_the_index(db):
    _add("zelda", "signup", target="zelda")
    assert activity.search(ActivityQuery(search="zeld")).total == 1  # matched in actor and target: one row
    with session_scope() as session:
        session.execute(text("UPDATE activity_logs SET created_at = :old"), {"old": datetime(2000, 1, 1, tzinfo=timezone.utc)})
    assert activity.search(ActivityQuery(search="zeld")).total == 1  # an update keeps the row findable
    _add("yann", "signup")
    assert activity.purge(retention_days=30) == 1
    assert activity.search(ActivityQuery(search="zeld")).total == 0
    assert activity.search(ActivityQuery(search="yann")).total == 1


def test_the_search_uses_the_index(log):
    from sqlalchemy.dialects import postgresql, sqlite

    from saas_panel.services.activity import _filtered

    engine = get_engine()
    statement = _filtered(select(ActivityLog.id), ActivityQuery(search="alice"))
    dialect = sqlite.dialect() if engine.dialect.name == "sqlite" else postgresql.dialect()
    sql = str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            plan = " ".join(str(row[-1]) for row in connection.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
            assert "VIRTUAL TABLE INDEX" in plan and "activity_search" in plan
        else:
            connection.execute(text("SET enable_seqscan = off; SET enable_indexscan = off"))  # left: bitmap scans
            plan = " ".join(row[0] for row in connection.execute(text(f"EXPLAIN {sql}")))
            assert "ix_activity_logs_search" in plan
