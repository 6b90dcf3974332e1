"""The user's dashboard handlers act on the session's own container only."""

from __future__ import annotations

from saas_panel.services import auth, provisioning
from saas_panel.state.dashboard import DashboardState
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
