"""Who may sign up: a global cap across every IP, and a switch that closes sign-up."""

from __future__ import annotations

import pytest
from sqlmodel import select

from saas_panel.db import session_scope
from saas_panel.errors import PermissionDenied, Throttled
from saas_panel.models import User
from saas_panel.services import auth, users
from saas_panel.state.auth import AuthState
from tests.handlers import call, state_with_token


def _usernames() -> list[str]:
    with session_scope() as session:
        return sorted(session.exec(select(User.username)).all())


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_BCRYPT_ROUNDS", "4")


def test_the_global_cap_refuses_signups_from_every_ip_once_spent(db, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_SIGNUP_GLOBAL_LIMIT", "3")
    for n in range(3):
        auth.register(f"user{n}", f"user{n}@example.com", "password one", ip=f"10.2.{n}.1")
    for n in range(3, 6):  # fresh IPs, each far below its own limit
        with pytest.raises(Throttled):
            auth.register(f"user{n}", f"user{n}@example.com", "password one", ip=f"10.2.{n}.1")
    assert _usernames() == ["user0", "user1", "user2"]


def test_closed_signup_refuses_register_but_admins_still_create_accounts(db, monkeypatch):
    users.ensure_admin("admin password")
    admin = auth.authenticate("admin", "admin password")
    monkeypatch.setenv("SAAS_PANEL_SIGNUP", "closed")
    with pytest.raises(PermissionDenied, match="Sign-up is closed") as refused:
        auth.register("walker", "walker@example.com", "password one", ip="10.3.0.1")
    assert str(refused.value) == auth.SIGNUP_CLOSED
    assert users.admin_create_user(admin, "invited", "invited@example.com", "password one").username == "invited"
    assert _usernames() == ["admin", "invited"]


def test_the_auth_pages_know_when_signup_is_closed(db, monkeypatch):
    state = state_with_token(AuthState, "")
    call(state, AuthState.event_handlers["redirect_if_signed_in"])
    assert state.signup_open is True
    monkeypatch.setenv("SAAS_PANEL_SIGNUP", "closed")
    call(state, AuthState.event_handlers["redirect_if_signed_in"])
    assert state.signup_open is False
    # A forged signup event gets the same refusal as the service.
    call(state, AuthState.event_handlers["signup"], form_data={"username": "walker", "email": "walker@example.com", "password": "password one"})
    assert state.form_error == auth.SIGNUP_CLOSED and state.session_token == ""
    assert _usernames() == []


def test_an_unknown_signup_mode_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_SIGNUP", "invite-only")
    with pytest.raises(ValueError, match="SAAS_PANEL_SIGNUP must be one of open, closed"):
        auth.signup_open()
