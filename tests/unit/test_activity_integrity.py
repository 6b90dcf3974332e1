"""The activity log holds only known actions by real actors, stays bounded, and follows accounts by id."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from saas_panel.db import session_scope
from saas_panel.errors import AuthenticationError
from saas_panel.models import ActivityLog, Container, Metric, ThrottleHit, UserSession, utcnow
from saas_panel.services import activity, api_tokens, auth, users
from saas_panel.state.background import housekeep


def _log() -> list[ActivityLog]:
    with session_scope() as session:
        return list(session.exec(select(ActivityLog).order_by(ActivityLog.id)).all())


@pytest.fixture
def admin(db):
    users.ensure_admin("admin password")
    return auth.authenticate("admin", "admin password")


@pytest.mark.parametrize("action", ["drop_tables", "LOGIN", "login ", "<script>"])
def test_record_refuses_an_action_outside_the_list(db, action):
    with pytest.raises(ValueError):
        activity.record(action, actor=activity.SYSTEM_ACTOR)
    assert _log() == []


@pytest.mark.parametrize("actor", ["mallory", "System", "anonymous"])
def test_record_refuses_an_actor_that_is_neither_an_account_nor_the_system(make_user, actor):
    make_user("alice")
    before = _log()
    with pytest.raises(ValueError, match="neither an account nor the system"):
        activity.record(activity.Action.LOGIN, actor=actor, target="alice")
    assert _log() == before


def test_failed_logins_for_unknown_names_are_logged_by_the_system_once_a_minute_per_client(db):
    for n in range(6):
        with pytest.raises(AuthenticationError):
            auth.authenticate(f"nobody{n}", "guess", "10.4.0.1")
    with pytest.raises(AuthenticationError):
        auth.authenticate("nobody", "guess", "10.4.0.2")
    rows = [(row.actor, row.action, row.ip, row.outcome, row.actor_id) for row in _log()]
    assert rows == [("system", "login", "10.4.0.1", "failure", None), ("system", "login", "10.4.0.2", "failure", None)]


def test_housekeeping_drops_old_activity_metrics_and_dead_sessions(make_user, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_ACTIVITY_RETENTION_DAYS", "30")
    monkeypatch.setenv("SAAS_PANEL_SESSION_IDLE_SECONDS", "3600")
    user_id = make_user("alice").id
    now = utcnow()
    with session_scope() as session:
        container = Container(name="saas-user-alice", image="img", state="stopped", user_id=user_id)
        session.add(container)
        session.flush()
        for age_days in (40, 10):
            session.add(ActivityLog(actor="system", action="purge", details=f"{age_days} days old", created_at=now - timedelta(days=age_days)))
            session.add(Metric(container_id=container.id, ts=now - timedelta(days=age_days)))
        for token, last_seen, expires in (
            ("expired", now, now - timedelta(seconds=1)),
            ("idle", now - timedelta(hours=2), now + timedelta(days=1)),
            ("live", now, now + timedelta(days=1)),
        ):
            session.add(UserSession(token_hash=token, user_id=user_id, last_seen_at=last_seen, expires_at=expires))
        session.add(ThrottleHit(key="login:ip:10.0.0.1", created_at=now - timedelta(days=2)))

    housekeep()

    with session_scope() as session:
        assert session.exec(select(ActivityLog.details).where(ActivityLog.details.like("% days old"))).all() == ["10 days old"]
        assert [ts.date() for ts in session.exec(select(Metric.ts)).all()] == [(now - timedelta(days=10)).date()]
        assert session.exec(select(UserSession.token_hash)).all() == ["live"]
        assert session.exec(select(ThrottleHit).where(ThrottleHit.key == "login:ip:10.0.0.1")).all() == []
        purge_row = session.exec(select(ActivityLog).where(ActivityLog.action == "purge", ActivityLog.details.not_like("% days old"))).one()
    assert (purge_row.actor, purge_row.details) == ("system", "2 rows past 30 days")


def test_a_deleted_accounts_history_stays_with_its_id_and_a_new_namesake_inherits_none(admin, make_user):
    old_id = make_user("ivy", "password one").id
    users.set_limits(admin, old_id, "256", "")
    users.admin_delete_user(admin, old_id)
    with session_scope() as session:
        history = session.exec(
            select(ActivityLog.action).where((ActivityLog.actor_id == old_id) | (ActivityLog.target_id == old_id)).order_by(ActivityLog.id)
        ).all()
    assert history == ["signup", "set_limits", "delete_user"]
    assert activity.timeline("ivy") == []

    make_user("ivy", "password two")  # on SQLite it may even get the deleted account's id back
    assert [row.action for row in activity.timeline("ivy")] == ["signup"]


def test_the_timeline_matches_accounts_by_id_not_by_name(admin, make_user):
    ivy_id = make_user("ivy").id
    users.set_limits(admin, ivy_id, "256", "")
    api_tokens.create(admin, "ivy", "read", 30)  # a token named like the account is not the account
    timeline = activity.timeline("ivy")
    assert [(row.actor, row.action) for row in timeline] == [("admin", "set_limits"), ("ivy", "signup")]
