"""Server-side sessions: hashed tokens, expiry, logout, and admin checks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from saas_panel.db import session_scope
from saas_panel.models import ActivityLog, User, UserSession
from saas_panel.services import auth, users
from saas_panel.errors import PermissionDenied, ValidationError
from saas_panel.services.security import hash_token


def _session_row(token: str) -> UserSession:
    with session_scope() as session:
        return session.exec(select(UserSession).where(UserSession.token_hash == hash_token(token))).one()


def _shift_session(token: str, **deltas: timedelta) -> None:
    with session_scope() as session:
        row = session.exec(select(UserSession).where(UserSession.token_hash == hash_token(token))).one()
        for column, delta in deltas.items():
            setattr(row, column, getattr(row, column) + delta)


def test_token_is_random_and_only_its_hash_is_stored(make_user):
    make_user("alice", "password one")
    _, first = auth.login("alice", "password one")
    _, second = auth.login("alice", "password one")
    assert first != second and len(first) >= 43  # 256 bits, url-safe base64
    with session_scope() as session:
        stored = [row.token_hash for row in session.exec(select(UserSession)).all()]
    assert first not in stored and hash_token(first) in stored


def test_resolve_returns_the_user_and_role_from_the_database(make_user):
    make_user("bob", "password one")
    _, token = auth.login("bob", "password one")
    assert auth.resolve_session(token).username == "bob"
    assert auth.resolve_session(token).role == "user"
    assert auth.resolve_session("forged-token") is None
    assert auth.resolve_session("") is None


def test_login_rotates_the_previous_token(make_user):
    make_user("cara", "password one")
    _, old = auth.login("cara", "password one")
    _, new = auth.login("cara", "password one", previous_token=old)
    assert auth.resolve_session(old) is None
    assert auth.resolve_session(new).username == "cara"


def test_absolute_expiry(make_user):
    make_user("dan", "password one")
    _, token = auth.login("dan", "password one")
    _shift_session(token, expires_at=timedelta(days=-30))
    assert auth.resolve_session(token) is None
    with session_scope() as session:
        assert session.exec(select(UserSession)).all() == []


def test_idle_expiry(make_user, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_SESSION_IDLE_SECONDS", "600")
    make_user("eve", "password one")
    _, token = auth.login("eve", "password one")
    _shift_session(token, last_seen_at=timedelta(seconds=-601))
    assert auth.resolve_session(token) is None


def test_logout_deletes_the_server_session(make_user):
    make_user("fay", "password one")
    _, token = auth.login("fay", "password one")
    auth.logout(token)
    assert auth.resolve_session(token) is None
    with session_scope() as session:
        assert session.exec(select(ActivityLog).where(ActivityLog.action == "logout")).one().actor == "fay"


def test_disabled_user_loses_sessions_and_cannot_log_in(make_user):
    users.ensure_admin("admin password")
    admin = auth.authenticate("admin", "admin password")
    user = make_user("gus", "password one")
    _, token = auth.login("gus", "password one")
    users.set_active(admin, user.id, False)
    assert auth.resolve_session(token) is None
    with pytest.raises(auth.AuthenticationError):
        auth.login("gus", "password one")


def test_admin_action_with_a_user_session_is_refused_and_changes_nothing(make_user):
    users.ensure_admin("admin password")
    victim = make_user("hal", "password one")
    make_user("mallory", "password one")
    _, user_token = auth.login("mallory", "password one")
    with pytest.raises(PermissionDenied):
        auth.require_admin(user_token, "disable_user", ip="10.9.9.9")
    with pytest.raises(PermissionDenied):
        auth.require_admin(None, "disable_user")
    with session_scope() as session:
        assert session.get(User, victim.id).is_active
        denied = session.exec(select(ActivityLog).where(ActivityLog.outcome == "denied")).all()
    assert [(d.actor, d.action, d.ip) for d in denied] == [
        ("mallory", "disable_user", "10.9.9.9"),
        ("system", "disable_user", None),  # no session: the system records the refusal
    ]


def test_password_change_ends_every_session_and_rotates_this_one(make_user):
    make_user("ivy", "old password 1")
    _, here = auth.login("ivy", "old password 1")
    _, elsewhere = auth.login("ivy", "old password 1")
    fresh = auth.change_password(here, "old password 1", "new password 2")
    assert auth.resolve_session(here) is None and auth.resolve_session(elsewhere) is None
    assert auth.resolve_session(fresh).username == "ivy"
    assert auth.authenticate("ivy", "new password 2").username == "ivy"
    with pytest.raises(auth.AuthenticationError):
        auth.authenticate("ivy", "old password 1")


def test_password_change_needs_the_current_password(make_user):
    make_user("jon", "old password 1")
    _, token = auth.login("jon", "old password 1")
    with pytest.raises(auth.AuthenticationError, match="current password"):
        auth.change_password(token, "wrong guess", "new password 2")
    with pytest.raises(ValidationError, match="at least 8"):
        auth.change_password(token, "old password 1", "short")
    assert auth.resolve_session(token).username == "jon"
    assert auth.authenticate("jon", "old password 1")
