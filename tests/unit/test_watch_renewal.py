"""An open dashboard keeps its user watching: each join renews the watch, also on a tab already linked."""

from __future__ import annotations

from saas_panel.services import auth
from saas_panel.services.coordination import WATCH_RENEW_S, WATCH_TTL_S, LocalWatchers
from saas_panel.state import live
from saas_panel.state.live import ContainerLive
from saas_panel.state.rooms import room_token, user_room
from saas_panel.state.auth import AuthState
from tests.handlers import call, run, state_with_token


def _live_tab(token: str) -> ContainerLive:
    return run(state_with_token(AuthState, token).get_state(ContainerLive))


def test_an_already_linked_tab_renews_its_users_watch(make_user, monkeypatch):
    make_user("alice")
    _, token = auth.login("alice", "correct horse")
    watching = LocalWatchers()
    monkeypatch.setattr(live, "watchers", lambda: watching)
    state = _live_tab(token)
    state._linked_to = room_token(user_room("alice"))  # linked at the page's first load
    clock = [1_000_000.0]
    monkeypatch.setattr("saas_panel.services.coordination.time.time", lambda: clock[0])

    call(state, ContainerLive.event_handlers["join"])
    clock[0] += WATCH_TTL_S - 1
    assert watching.current() == {"alice"}
    clock[0] += 2
    assert watching.current() == set()  # a closed tab stops costing
    call(state, ContainerLive.event_handlers["join"])  # the open page's renewal
    assert watching.current() == {"alice"}
    assert WATCH_RENEW_S < WATCH_TTL_S / 2  # a renewal missed once still keeps the watch


def test_a_signed_out_tab_renews_nothing(db, monkeypatch):
    watching = LocalWatchers()
    monkeypatch.setattr(live, "watchers", lambda: watching)
    call(_live_tab("not a session"), ContainerLive.event_handlers["join"])
    assert watching.current() == set()
