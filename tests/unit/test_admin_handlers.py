"""Admin event handlers are public: each must check the role itself.

Every handler AdminState adds is called as a forged event from a normal
user's session: nothing may change, and each refusal is logged.
"""

from __future__ import annotations

import inspect

import pytest
from sqlmodel import select

from saas_panel.db import session_scope
from saas_panel.models import ActivityLog, User
from saas_panel.services import auth, users
from saas_panel.state.admin import AdminState
from saas_panel.state.auth import AuthState
from tests.handlers import call, state_with_token

# Arguments a forger would send to each handler (by parameter name).
FORGED_ARGS = {"user_id": None, "active": False}


def _admin_handlers() -> dict:
    inherited = set(AuthState.event_handlers)  # includes Reflex's own `setvar`
    return {name: handler for name, handler in AdminState.event_handlers.items() if name not in inherited}


def test_every_admin_handler_refuses_a_user_session(make_user):
    users.ensure_admin("admin password")
    victim = make_user("victim", "password one")
    make_user("mallory", "password one")
    _, token = auth.login("mallory", "password one")
    handlers = _admin_handlers()
    assert "set_user_active" in handlers and "load" in handlers

    for name, handler in handlers.items():
        params = [p for p in inspect.signature(handler.fn).parameters if p != "self"]
        kwargs = {p: (victim.id if p == "user_id" else FORGED_ARGS.get(p)) for p in params}
        state = state_with_token(AdminState, token)
        call(state, handler, **kwargs)
        assert state.users == [], f"{name} leaked the user list"

    with session_scope() as session:
        assert session.get(User, victim.id).is_active
        denied = session.exec(select(ActivityLog.action).where(ActivityLog.outcome == "denied", ActivityLog.actor == "mallory")).all()
    assert len(denied) == len(handlers)


def test_admin_handler_works_for_an_admin(make_user):
    users.ensure_admin("admin password")
    victim = make_user("victim", "password one")
    _, token = auth.login("admin", "admin password")
    state = state_with_token(AdminState, token)
    call(state, AdminState.event_handlers["set_user_active"], user_id=victim.id, active=False)
    with session_scope() as session:
        assert not session.get(User, victim.id).is_active
    assert any(row["username"] == "victim" and not row["is_active"] for row in state.users)


@pytest.mark.parametrize("token", ["", "not-a-real-token"])
def test_admin_page_guard_sends_strangers_to_login(db, token):
    state = state_with_token(AuthState, token)
    result = call(state, AuthState.event_handlers["require_admin_page"])
    assert "/login" in str(result)
