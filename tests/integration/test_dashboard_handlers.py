"""The user's dashboard handlers act on the session's own container only."""

from __future__ import annotations

import pytest

from saas_panel.errors import DomainError
from saas_panel.services import auth, containers, provisioning, users
from saas_panel.state.dashboard import ENGINE_TROUBLE, DashboardState
from tests.handlers import call, state_with_token


def test_a_forged_username_cannot_reach_another_users_container(engine, make_user, docker_client):
    make_user("alice", "password one")
    make_user("bob", "password two")
    provisioning.provision("alice")
    provisioning.provision("bob")
    _, alice_token = auth.login("alice", "password one")

    state = state_with_token(DashboardState, alice_token)
    state.username = "bob"  # what a client could send with the generic `setvar` event
    state.container_name = f"{engine}bob"
    call(state, DashboardState.event_handlers["container_action"], action="stop")

    assert provisioning.status("bob").state == "running"
    assert provisioning.status("alice").state == "stopped"
    assert state.username == "alice" and state.container_name == f"{engine}alice"


def test_dashboard_shows_only_the_sessions_container(engine, make_user):
    make_user("carol", "password one")
    make_user("dave", "password two")
    provisioning.provision("dave")
    _, carol_token = auth.login("carol", "password one")
    state = state_with_token(DashboardState, carol_token)
    state.username = "dave"
    call(state, DashboardState.event_handlers["refresh"])
    assert state.container_name == ""  # carol has none yet; dave's is never shown


def test_unknown_actions_and_stale_sessions_change_nothing(engine, make_user):
    make_user("erin", "password one")
    provisioning.provision("erin")
    _, token = auth.login("erin", "password one")
    call(state_with_token(DashboardState, token), DashboardState.event_handlers["container_action"], action="remove")
    call(state_with_token(DashboardState, "forged"), DashboardState.event_handlers["container_action"], action="stop")
    assert provisioning.status("erin").state == "running"


def test_container_actions_are_rate_limited_per_user(engine, make_user, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_CONTAINER_ACTION_LIMIT", "2")
    make_user("fay", "password one")
    provisioning.provision("fay")
    _, token = auth.login("fay", "password one")
    state = state_with_token(DashboardState, token)
    call(state, DashboardState.event_handlers["container_action"], action="stop")
    call(state, DashboardState.event_handlers["container_action"], action="start")
    refused = call(state, DashboardState.event_handlers["container_action"], action="stop")
    assert "Too many attempts" in str(refused)
    assert provisioning.status("fay").state == "running"  # the third action never reached the engine


def test_opening_the_dashboard_as_an_admin_creates_no_container(engine, db):
    users.ensure_admin("admin password")
    _, token = auth.login("admin", "admin password")
    state = state_with_token(DashboardState, token)
    call(state, DashboardState.event_handlers["load"])
    refused = call(state, DashboardState.event_handlers["container_action"], action="start")
    assert provisioning.container_row_id("admin") is None and state.status == "none"
    assert "Administrators have no app" in str(refused)


def test_engine_error_text_is_never_shown_to_the_user(engine, make_user, monkeypatch, docker_client):
    monkeypatch.setenv("SAAS_PANEL_USER_IMAGE", "saas-panel/no-such-image:never")
    make_user("gus", "password one")
    with pytest.raises(DomainError) as failed:
        provisioning.provision("gus")
    engine_text = str(failed.value)
    assert "no-such-image" in engine_text  # what the engine said is kept for admins...
    assert "no-such-image" in containers.detail(provisioning.container_row_id("gus")).error
    _, token = auth.login("gus", "password one")
    state = state_with_token(DashboardState, token)
    updates = call(state, DashboardState.event_handlers["container_action"], action="start")
    call(state, DashboardState.event_handlers["refresh"])
    assert state.status == "error" and state.error == ENGINE_TROUBLE  # ...but the user reads a plain message
    assert "no-such-image" not in str(updates) + state.error
