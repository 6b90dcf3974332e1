"""Admin event handlers are public: each must check the role itself.

Every handler of every admin state is called as a forged event from a normal
user's session, with arguments aimed at another account and its container:
nothing may change, nothing may be shown, and each refusal is logged.
"""

from __future__ import annotations

import inspect

import pytest
from sqlmodel import func, select

from saas_panel.db import session_scope
from saas_panel.models import ActivityLog, ApiToken, Container, User
from saas_panel.services import api_tokens, auth, users
from saas_panel.state.admin import ADMIN_STATES, ActivityState, ContainersState, OverviewState, UsersState
from saas_panel.state.admin.table import TableState
from saas_panel.state.auth import AuthState
from tests.handlers import admin_handlers, call, forged_args, state_with_token


def _snapshot(victim_id: int) -> tuple:
    with session_scope() as session:
        victim = session.get(User, victim_id)
        return (
            session.exec(select(func.count()).select_from(User)).one(),
            session.exec(select(func.count()).select_from(Container)).one(),
            (victim.is_active, victim.role, victim.password_hash, victim.mem_limit_mb, victim.cpu_limit),
            session.exec(select(func.count()).select_from(ActivityLog).where(ActivityLog.outcome != "denied")).one(),
            [(t.id, t.revoked_at) for t in session.exec(select(ApiToken)).all()],
        )


@pytest.fixture
def victim_with_container(make_user):
    users.ensure_admin("admin password")
    admin = auth.authenticate("admin", "admin password")
    api_tokens.create(admin, "ci", "admin", 30)
    victim = make_user("victim", "password one")
    with session_scope() as session:
        row = Container(user_id=victim.id, name="t-victim", image="img", state="running")
        session.add(row)
        session.flush()
        container_id = row.id
    return victim, container_id


def test_every_admin_handler_refuses_a_user_session(make_user, victim_with_container):
    victim, container_id = victim_with_container
    make_user("mallory", "password one")
    _, token = auth.login("mallory", "password one")
    before = _snapshot(victim.id)
    with session_scope() as session:
        token_id = session.exec(select(ApiToken.id)).one()
    forged = forged_args(victim.id, container_id, token_id)
    calls = 0

    for state_cls in ADMIN_STATES:
        handlers = admin_handlers(state_cls)
        assert "load" in handlers, state_cls.__name__
        if issubclass(state_cls, TableState):  # the shared table handlers are copied into each screen
            assert {"set_search", "set_filter", "sort_by", "go_to_page"} <= set(handlers), state_cls.__name__
        for name, handler in handlers.items():
            params = [p for p in inspect.signature(handler.fn).parameters if p != "self"]
            state = state_with_token(state_cls, token)
            if state_cls is ContainersState:
                state.selected = [container_id]  # a client can `setvar` this
            if state_cls is UsersState:
                state.limits_user = {"id": victim.id, "username": "victim"}
            call(state, handler, **{p: forged[p] for p in params})
            calls += 1
            label = f"{state_cls.__name__}.{name}"
            assert getattr(state, "rows", []) == [], f"{label} leaked rows"
            assert getattr(state, "one_time_password", "") == "", f"{label} leaked a password"
            assert getattr(state, "new_token", "") == "", f"{label} leaked a token"
            assert getattr(state, "detail", {}) == {}, f"{label} leaked container detail"
            assert getattr(state, "users_total", 0) == 0 and getattr(state, "recent", []) == [], f"{label} leaked numbers"

    assert calls >= 25
    assert _snapshot(victim.id) == before
    with session_scope() as session:
        denied = session.exec(select(ActivityLog.action).where(ActivityLog.outcome == "denied", ActivityLog.actor == "mallory")).all()
    # Every refused action is logged, once a minute per action (a user cannot flood the log).
    assert len(denied) == len(set(denied)) >= 8


def _admin_state(state_cls):
    _, token = auth.login("admin", "admin password")
    return state_with_token(state_cls, token)


def test_admin_handlers_work_for_an_admin(victim_with_container):
    victim, _ = victim_with_container
    state = _admin_state(UsersState)
    call(state, UsersState.event_handlers["load"])
    assert {row["username"] for row in state.rows} == {"admin", "victim"}
    call(state, UsersState.event_handlers["set_search"], value="VICT")
    assert [row["username"] for row in state.rows] == ["victim"]
    call(state, UsersState.event_handlers["set_role"], user_id=victim.id, role="admin")
    assert state.rows[0]["role"] == "admin"

    overview = _admin_state(OverviewState)
    call(overview, OverviewState.event_handlers["load"])
    assert overview.users_total == 2 and dict(map(tuple, overview.containers))["running"] == 1

    log = _admin_state(ActivityState)
    call(log, ActivityState.event_handlers["set_filter"], name="action", value="promote_user")
    assert [(r["actor"], r["target"]) for r in log.rows] == [("admin", "victim")]


def test_reset_password_shows_it_once_and_ends_sessions(victim_with_container):
    victim, _ = victim_with_container
    _, victim_token = auth.login("victim", "password one")
    state = _admin_state(UsersState)
    call(state, UsersState.event_handlers["load"])
    call(state, UsersState.event_handlers["reset_password"], user_id=victim.id)
    assert state.one_time_password_user == "victim"  # the password itself: tests/unit/test_secrets_at_rest.py
    assert auth.resolve_session(victim_token) is None


def test_activity_export_downloads_the_filtered_csv(victim_with_container):
    state = _admin_state(ActivityState)
    call(state, ActivityState.event_handlers["set_filter"], name="actor", value="victim")
    updates = call(state, ActivityState.event_handlers["export_csv"])
    download = str(updates[-1])
    assert "download" in download.lower() and "activity-" in download


@pytest.mark.parametrize("token", ["", "not-a-real-token"])
def test_admin_page_guard_sends_strangers_to_login(db, token):
    state = state_with_token(AuthState, token)
    result = call(state, AuthState.event_handlers["require_admin_page"])
    assert "/login" in str(result)
