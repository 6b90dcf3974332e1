"""The edge's activity buffer, its flush, the idle culler's choice, and the admin's exemption."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from saas_panel.db import get_engine, session_scope
from saas_panel.models import ActivityLog, Container, Plan, User
from saas_panel.services import auth, containers, idle, plans, users
from saas_panel.state.admin import UsersState
from tests.handlers import call, state_with_token

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=timezone.utc)


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


@pytest.fixture(autouse=True)
def empty_buffer():
    idle._seen.clear()  # another test's unflushed times must not leak in
    yield
    idle._seen.clear()


@pytest.fixture
def owners(make_user, monkeypatch):
    """Add a user with a container row in a given state, times and exemption; returns the row id."""
    monkeypatch.setenv("SAAS_PANEL_BCRYPT_ROUNDS", "4")

    def _add(name: str, state: str = "running", started: datetime | None = None, last: datetime | None = None, exempt: bool = False) -> int:
        user = make_user(name, "password one")
        with session_scope() as session:
            session.get(User, user.id).idle_exempt = exempt
            row = Container(user_id=user.id, name=f"c-{name}", image="img", state=state, started_at=started, created_at=ago(600), last_activity_at=last)
            session.add(row)
            session.flush()
            return row.id

    return _add


def last_activity(row_id: int) -> datetime | None:
    with session_scope() as session:
        return session.get(Container, row_id).last_activity_at


def test_note_activity_runs_no_query_and_flush_keeps_the_latest(owners):
    row_id = owners("alice", started=ago(120))
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(get_engine(), "before_cursor_execute", listener)
    try:
        for minutes in (30, 10, 20):  # out of order, by name and by row id
            idle.note_activity("alice", ago(minutes))
            idle.note_activity(row_id, ago(minutes + 1))
    finally:
        event.remove(get_engine(), "before_cursor_execute", listener)
    assert statements == []
    assert last_activity(row_id) is None  # nothing written before a flush

    assert idle.flush() == 1
    assert last_activity(row_id) == ago(10)
    assert idle.flush() == 0  # the buffer was emptied


def test_flush_never_moves_a_time_back(owners):
    row_id = owners("alice", started=ago(120), last=ago(5))
    idle.note_activity("alice", ago(50))  # e.g. a worker flushing late
    idle.flush()
    assert last_activity(row_id) == ago(5)
    idle.note_activity(row_id, ago(1))
    idle.flush()
    assert last_activity(row_id) == ago(1)


def test_a_failed_flush_keeps_its_times(owners, monkeypatch, tmp_path):
    row_id = owners("alice", started=ago(120))
    idle.note_activity("alice", ago(3))
    database = os.environ["REFLEX_DB_URL"]
    monkeypatch.setenv("REFLEX_DB_URL", f"sqlite:///{tmp_path / 'not-migrated.db'}")  # no containers table
    with pytest.raises(OperationalError):
        idle.flush()
    monkeypatch.setenv("REFLEX_DB_URL", database)
    idle.flush()
    assert last_activity(row_id) == ago(3)


def test_cull_picks_running_containers_idle_past_the_timeout(owners, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_IDLE_STOP_MINUTES", "60")
    owners("idle", started=ago(300), last=ago(61))
    owners("never-used", started=ago(90))
    owners("busy", started=ago(300), last=ago(59))
    owners("restarted", started=ago(5), last=ago(300))  # started again by its owner after an idle stop
    owners("exempt", started=ago(300), last=ago(200), exempt=True)
    owners("stopped", state="stopped", started=ago(300), last=ago(200))
    asked = []

    assert idle.cull(NOW, stop=lambda name, reason: asked.append((name, reason))) == ["idle", "never-used"]
    assert asked == [
        ("idle", "no request through the edge for 61 minutes"),
        ("never-used", "no request through the edge for 90 minutes"),
    ]


def test_zero_minutes_never_culls(owners, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_IDLE_STOP_MINUTES", "0")
    owners("idle", started=ago(10_000), last=ago(10_000))
    assert idle.cull(NOW, stop=lambda name, reason: pytest.fail(f"{name} stopped")) == []
    assert idle.check_interval_s() == 60  # SAAS_PANEL_IDLE_CHECK_SECONDS


def test_checks_run_at_least_twice_per_timeout(db, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_IDLE_STOP_MINUTES", "1")
    assert idle.check_interval_s() == 30
    monkeypatch.setenv("SAAS_PANEL_IDLE_STOP_MINUTES", "60")
    assert idle.check_interval_s() == 60
    monkeypatch.setenv("SAAS_PANEL_IDLE_CHECK_SECONDS", "2")
    assert idle.check_interval_s() == 2


def on_plan(idle_minutes: float | None, *usernames: str) -> None:
    """Put `usernames` on a new plan with this idle timeout (None: the panel's)."""
    with session_scope() as session:
        plan = Plan(name=f"idle {idle_minutes}", image="img", cpu_limit=1, mem_limit_mb=128, storage_mb=64, idle_stop_minutes=idle_minutes)
        session.add(plan)
        session.flush()
        for user in session.exec(select(User).where(User.username.in_(usernames))).all():
            user.plan_id = plan.id


def set_default_plan_idle(minutes: float | None) -> None:
    with session_scope() as session:
        plans.default_plan(session).idle_stop_minutes = minutes


def test_each_plan_culls_its_users_at_its_own_timeout(owners, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_IDLE_STOP_MINUTES", "60")
    for name, quiet_minutes in {"short": 11, "short-busy": 9, "never": 10_000, "panels": 59, "panels-idle": 61}.items():
        owners(name, started=ago(20_000), last=ago(quiet_minutes))
    on_plan(10, "short", "short-busy")
    on_plan(0, "never")
    on_plan(None, "panels", "panels-idle")

    assert idle.cull(NOW, stop=lambda name, reason: None) == ["panels-idle", "short"]


def test_users_without_a_plan_follow_the_default_plan(owners, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_IDLE_STOP_MINUTES", "60")
    owners("alice", started=ago(300), last=ago(11))
    set_default_plan_idle(10)
    assert idle.cull(NOW, stop=lambda name, reason: None) == ["alice"]
    set_default_plan_idle(0)
    owners("bob", started=ago(10_000), last=ago(10_000))
    assert idle.cull(NOW, stop=lambda name, reason: pytest.fail(f"{name} stopped")) == []


def test_checks_run_twice_per_the_shortest_plan_timeout(db, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_IDLE_STOP_MINUTES", "0")
    on_plan(0)
    assert idle.check_interval_s() == 60
    on_plan(1)
    on_plan(5)
    assert idle.check_interval_s() == 30


def test_the_panels_timeout_rules_the_checks_while_the_database_is_away(db, monkeypatch, tmp_path):
    monkeypatch.setenv("SAAS_PANEL_IDLE_STOP_MINUTES", "1")
    monkeypatch.setenv("REFLEX_DB_URL", f"sqlite:///{tmp_path / 'not-migrated.db'}")  # no plans table
    assert idle.check_interval_s() == 30


class Lease:
    def __init__(self, held: bool):
        self.held, self.holder = held, "test"

    def acquire_or_renew(self) -> bool:
        return self.held

    def release(self) -> None:
        pass


def test_every_worker_flushes_but_only_the_lease_holder_culls(owners, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_IDLE_STOP_MINUTES", "60")
    row_id = owners("alice", started=ago(300), last=ago(200))
    owners("bob", started=ago(300), last=ago(200))
    idle.note_activity("alice", NOW)
    no_engine = lambda name, reason: None  # noqa: E731

    assert idle.tick(Lease(False), NOW, no_engine) == []
    assert last_activity(row_id) == NOW  # flushed although this worker does not cull
    assert idle.tick(Lease(True), NOW, no_engine) == ["bob"]


def test_admin_exempts_a_user_and_it_is_logged(owners, make_user):
    victim_row = owners("victim", started=ago(300))
    users.ensure_admin("admin password")
    _, token = auth.login("admin", "admin password")
    state = state_with_token(UsersState, token)
    with session_scope() as session:
        victim_id = session.exec(select(Container.user_id).where(Container.id == victim_row)).one()

    call(state, UsersState.event_handlers["set_idle_exempt"], user_id=victim_id, exempt=True)
    assert [row["idle_exempt"] for row in state.rows if row["username"] == "victim"] == [True]
    call(state, UsersState.event_handlers["set_idle_exempt"], user_id=victim_id, exempt=False)
    assert [row["idle_exempt"] for row in state.rows if row["username"] == "victim"] == [False]
    with session_scope() as session:
        logged = session.exec(
            select(ActivityLog.actor, ActivityLog.target, ActivityLog.details).where(ActivityLog.action == "set_idle_exempt").order_by(ActivityLog.id)
        ).all()
    assert logged == [("admin", "victim", "never stopped when idle"), ("admin", "victim", "stopped when idle")]


def test_containers_table_shows_and_sorts_by_last_activity(owners):
    owners("alice", started=ago(300), last=ago(30))
    owners("bob", started=ago(300), last=ago(5))
    owners("carol", started=ago(300), last=ago(60))
    page = containers.list_containers(containers.ContainerQuery(sort="last_activity_at", descending=True))
    assert [row.owner for row in page.rows] == ["bob", "alice", "carol"]
    assert page.rows[0].last_activity_at == ago(5)
