"""The admin tables' indexed search finds what a substring scan finds, and the index serves it."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, text
from sqlmodel import select

from saas_panel.db import get_engine, session_scope
from saas_panel.models import ActivityLog, Container, User
from saas_panel.services import activity, text_search, users
from saas_panel.services.activity import ActivityQuery
from saas_panel.services.users import UserQuery
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


def test_users_are_found_by_any_part_of_their_name_or_email(db, make_user):
    make_user("ramona", email="ramona.flowers@example.com")
    make_user("scott", email="scott@pilgrim.example")
    assert [row.username for row in users.search_users(UserQuery(search="FLOWERS")).rows] == ["ramona"]
    assert [row.username for row in users.search_users(UserQuery(search="pilgrim.ex")).rows] == ["scott"]
    assert users.search_users(UserQuery(search="onasc")).total == 0  # "ramona" then "scott": never across rows


def _plan(sql: str) -> str:
    engine = get_engine()
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            return " ".join(str(row[-1]) for row in connection.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
        connection.execute(text("SET enable_seqscan = off; SET enable_indexscan = off"))  # left: bitmap scans
        return " ".join(row[0] for row in connection.execute(text(f"EXPLAIN {sql}")))


def _sql(statement) -> str:
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = sqlite.dialect() if get_engine().dialect.name == "sqlite" else postgresql.dialect()
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


@pytest.mark.parametrize("index", [text_search.ACTIVITY, text_search.USERS, text_search.CONTAINERS], ids=lambda index: index.table)
def test_the_search_uses_the_index(db, index):
    model = {"activity_logs": ActivityLog, "users": User, "containers": Container}[index.table]
    plan = _plan(_sql(select(model.id).where(text_search.matching(index, model, "alice"))))
    if get_engine().dialect.name == "sqlite":
        assert "VIRTUAL TABLE INDEX" in plan and index.fts_table in plan
    else:
        assert index.pg_index in plan
