"""Throttles live in the database: per account, per IP and per token, with Retry-After."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import func, select

from saas_panel.db import session_scope
from saas_panel.errors import AuthenticationError, Throttled
from saas_panel.models import ActivityLog, ThrottleHit, utcnow
from saas_panel.services import auth, security, throttle
from saas_panel.state.auth import AuthState
from tests.handlers import call, state_with_token


def test_sliding_window_refuses_past_the_limit_and_says_when_to_retry(db):
    limit = throttle.Limit("test:key", 3, 60)
    start = utcnow()
    for seconds in (0, 10, 20):
        throttle.hit(limit, now=start + timedelta(seconds=seconds))
    with pytest.raises(Throttled) as refused:
        throttle.hit(limit, now=start + timedelta(seconds=30))
    assert refused.value.retry_after == 30  # the first attempt leaves the window at +60 s
    assert "try again in 30 seconds" in str(refused.value)
    throttle.hit(limit, now=start + timedelta(seconds=61))  # one slot freed
    with pytest.raises(Throttled):
        throttle.hit(limit, now=start + timedelta(seconds=62))


def test_refused_attempts_are_not_counted_and_keys_are_independent(db):
    limit = throttle.Limit("a", 1, 60)
    throttle.hit(limit)
    for _ in range(5):
        with pytest.raises(Throttled):
            throttle.hit(limit)
    throttle.hit(throttle.Limit("b", 1, 60))
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(ThrottleHit)).one() == 2


def test_one_spent_limit_refuses_and_counts_nothing_under_the_others(db):
    spent, fresh = throttle.Limit("spent", 1, 60), throttle.Limit("fresh", 5, 60)
    throttle.hit(spent)
    with pytest.raises(Throttled):
        throttle.hit(fresh, spent)
    with session_scope() as session:
        assert session.exec(select(func.count()).select_from(ThrottleHit).where(ThrottleHit.key == "fresh")).one() == 0


def test_purge_removes_only_old_rows(db):
    now = utcnow()
    throttle.hit(throttle.Limit("old", 5, 60), now=now - timedelta(hours=2))
    throttle.hit(throttle.Limit("new", 5, 60), now=now)
    assert throttle.purge(3600, now=now) == 1
    with session_scope() as session:
        assert session.exec(select(ThrottleHit.key)).all() == ["new"]


def test_login_is_throttled_per_account_before_bcrypt(make_user, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_LOGIN_ACCOUNT_LIMIT", "3")
    make_user("alice", "correct horse")
    checks = []
    real_verify = security.verify_password
    monkeypatch.setattr(auth, "verify_password", lambda *a: checks.append(1) or real_verify(*a))
    for ip in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):  # three IPs: only the account limit applies
        with pytest.raises(AuthenticationError):
            auth.authenticate("alice", "wrong", ip)
    with pytest.raises(Throttled) as refused:
        auth.authenticate("alice", "correct horse", "10.0.0.4")
    assert 0 < refused.value.retry_after <= 300
    assert len(checks) == 3  # the refused attempt never reached bcrypt
    with session_scope() as session:
        logged = session.exec(select(ActivityLog).where(ActivityLog.details == "throttled")).one()
    assert (logged.action, logged.actor, logged.target, logged.outcome) == ("login", "system", "alice", "failure")


def test_login_is_throttled_per_ip_across_accounts(make_user, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_LOGIN_IP_LIMIT", "2")
    for name in ("bob", "carol"):
        with pytest.raises(AuthenticationError):
            auth.authenticate(name, "guess", "10.9.9.9")
    with pytest.raises(Throttled):
        auth.authenticate("dave", "guess", "10.9.9.9")
    with pytest.raises(AuthenticationError):  # another IP is not affected
        auth.authenticate("dave", "guess", "10.9.9.10")


def test_a_successful_login_forgives_the_accounts_earlier_typos(make_user, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_LOGIN_ACCOUNT_LIMIT", "2")
    make_user("erin", "correct horse")
    with pytest.raises(AuthenticationError):
        auth.authenticate("erin", "typo")
    auth.authenticate("erin", "correct horse")
    with pytest.raises(AuthenticationError):
        auth.authenticate("erin", "typo")
    auth.authenticate("erin", "correct horse")


def test_signup_is_throttled_per_ip(db, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_SIGNUP_IP_LIMIT", "2")
    auth.register("frank", "frank@example.com", "password one", ip="10.1.1.1")
    auth.register("grace", "grace@example.com", "password one", ip="10.1.1.1")
    with pytest.raises(Throttled):
        auth.register("heidi", "heidi@example.com", "password one", ip="10.1.1.1")
    auth.register("heidi", "heidi@example.com", "password one", ip="10.1.1.2")


def test_the_login_form_shows_the_wait(make_user, monkeypatch):
    """The UI speaks over the websocket: a throttled login becomes a message, not a status code."""
    monkeypatch.setenv("SAAS_PANEL_LOGIN_ACCOUNT_LIMIT", "1")
    make_user("ivan", "correct horse")
    state = state_with_token(AuthState, "")
    call(state, AuthState.event_handlers["login"], form_data={"username": "ivan", "password": "wrong"})
    assert state.form_error == auth.INVALID_CREDENTIALS
    call(state, AuthState.event_handlers["login"], form_data={"username": "ivan", "password": "correct horse"})
    assert state.form_error.startswith("Too many attempts, try again in ") and state.form_error.endswith(" seconds.")
    assert state.session_token == ""
