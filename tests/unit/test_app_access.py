"""The edge's decisions, in process: hosts, hand-off tickets, app cookies and verdicts."""

from __future__ import annotations

import time

import pytest
from sqlmodel import select

from saas_panel.db import session_scope
from saas_panel.models import ActivityLog, UserSession
from saas_panel.services import activity, app_access, auth, idle, users
from saas_panel.services.security import hash_token

HOST = "alice.apps.localhost:8000"


@pytest.fixture
def alice(make_user, monkeypatch):
    """alice, signed in, whose app runs at 10.0.0.5:8080 (the engine is not asked)."""
    user = make_user("alice", "alice password")
    routes = {"alice": app_access.Route(user.id, "alice", 1, "10.0.0.5:8080", "running")}
    monkeypatch.setattr(app_access, "_load_route", lambda label: routes.get(label))
    app_access._routes.clear()
    app_access._viewers.clear()
    _, token = auth.login("alice", "alice password")
    return user, token, routes


def _session_id(token: str) -> int:
    with session_scope() as session:
        return session.exec(select(UserSession.id).where(UserSession.token_hash == hash_token(token))).one()


def _cookie_for(user, token, label="alice") -> str:
    cookie = app_access.redeem(app_access.issue_ticket(_session_id(token), user.id, label), f"{label}.apps.localhost:8000")
    assert cookie is not None
    return f"{cookie.name}={cookie.value}"


@pytest.mark.parametrize(
    ("host", "label"),
    [("alice.apps.localhost:8000", "alice"), ("ALICE.apps.localhost", "alice"), ("a.b.apps.localhost", None),
     ("apps.localhost:8000", None), ("alice.apps.localhost.evil.com", None), ("localhost:8000", None), ("", None)],
)
def test_only_one_label_below_the_apps_domain_is_an_app(host, label):
    assert app_access.label_of_host(host) == label


@pytest.mark.parametrize("raw", ["//evil.example/x", "http://evil.example/", "/\\evil.example", "evil", "/a\nb", None])
def test_the_return_path_never_leaves_the_origin(raw):
    assert app_access.safe_next(raw) == "/"
    assert app_access.safe_next("/notebooks/1?x=2") == "/notebooks/1?x=2"


def test_the_owner_passes_to_the_upstream_and_it_counts_as_activity(alice):
    user, token, _ = alice
    verdict = app_access.verify(HOST, "/", _cookie_for(user, token), wants_page=True)
    assert (verdict.status, verdict.upstream) == (200, "10.0.0.5:8080")
    assert 1 in idle._seen  # the idle culler's in-memory last activity


def test_without_a_cookie_pages_go_to_the_panel_and_other_requests_get_401(alice):
    page = app_access.verify(HOST, "/lab?x=1", "", wants_page=True)
    assert page.status == 302 and page.location.startswith("http://localhost:8000/open?app=alice&next=%2Flab%3Fx%3D1")
    assert app_access.verify(HOST, "/api", "", wants_page=False).status == 401


def test_forged_expired_and_misplaced_cookies_are_refused(alice, make_user, monkeypatch):
    user, token, routes = alice
    good = _cookie_for(user, token)
    name, value = good.split("=", 1)
    payload, _, mac = value.rpartition(".")
    forged = f"{name}={payload.replace(str(user.id), '999', 1)}.{mac}"
    bob = make_user("bob", "bob password")
    routes["bob"] = app_access.Route(bob.id, "bob", 2, "10.0.0.6:8080", "running")
    assert app_access.verify(HOST, "/", forged, wants_page=False).status == 401
    assert app_access.verify("bob.apps.localhost:8000", "/", good, wants_page=False).status == 401  # alice's cookie, bob's host
    monkeypatch.setattr(time, "time", lambda: 10**10)
    assert app_access.verify(HOST, "/", good, wants_page=False).status == 401  # expired


def test_a_ticket_works_once_on_its_own_host_only(alice):
    user, token, _ = alice
    ticket = app_access.issue_ticket(_session_id(token), user.id, "alice")
    assert app_access.redeem(ticket, "bob.apps.localhost:8000") is None
    assert app_access.redeem(ticket, HOST) is not None
    assert app_access.redeem(ticket, HOST) is None


def test_the_cookie_is_host_only_httponly_and_secure_under_tls(alice, monkeypatch):
    user, token, _ = alice
    header = app_access.redeem(app_access.issue_ticket(_session_id(token), user.id, "alice"), HOST).header()
    assert "HttpOnly" in header and "Domain" not in header and "SameSite=Lax" in header and "Secure" not in header
    monkeypatch.setenv("SAAS_PANEL_PUBLIC_URL", "https://panel.example.com")
    header = app_access.redeem(app_access.issue_ticket(_session_id(token), user.id, "alice"), "alice.apps.localhost").header()
    assert header.startswith("__Host-saas_app=") and "Secure" in header and "Path=/" in header


def test_another_user_cannot_redeem_or_pass_but_an_admin_can_and_is_logged(alice, make_user):
    user, token, _ = alice
    make_user("mallory", "mallory password")
    mallory, mallory_token = auth.login("mallory", "mallory password")
    assert app_access.redeem(app_access.issue_ticket(_session_id(mallory_token), mallory.id, "alice"), HOST) is None
    users.ensure_admin("admin password")
    admin, admin_token = auth.login("admin", "admin password")
    cookie = _cookie_for(admin, admin_token)
    assert app_access.verify(HOST, "/", cookie, wants_page=False).status == 200
    with session_scope() as session:
        visit = session.exec(select(ActivityLog).where(ActivityLog.action == "visit_app")).one()
    assert (visit.actor, visit.target, visit.target_id) == ("admin", "alice", user.id)
    assert "visit_app" in [row.action for row in activity.timeline("alice")]


def test_logout_ends_access_once_the_session_cache_lapses(alice):
    user, token, _ = alice
    cookie = _cookie_for(user, token)
    assert app_access.verify(HOST, "/", cookie, wants_page=False).status == 200
    auth.logout(token)
    app_access._viewers.clear()  # what SESSION_CACHE_S seconds do
    assert app_access.verify(HOST, "/", cookie, wants_page=False).status == 401


@pytest.mark.parametrize(("state", "page", "status"), [("stopped", True, 302), ("stopped", False, 503), ("engine_down", True, 503), ("missing", True, 302)])
def test_apps_that_do_not_run_wake_or_explain(alice, state, page, status):
    user, token, routes = alice
    routes["alice"] = app_access.Route(user.id, "alice", 1, None, state)
    verdict = app_access.verify(HOST, "/", _cookie_for(user, token), wants_page=page)
    assert verdict.status == status
    if status == 302:
        assert "/open?app=alice" in verdict.location


def test_an_unknown_host_is_a_404(alice):
    assert app_access.verify("nobody.apps.localhost:8000", "/", "", wants_page=True).status == 404


def test_the_cached_path_answers_only_when_warm_and_like_the_full_check(alice):
    user, token, _ = alice
    cookie = _cookie_for(user, token)
    app_access._routes.clear()
    app_access._viewers.clear()
    assert app_access.verify_cached(HOST, "/", cookie, wants_page=False) is None  # cold: the caller goes to a thread
    full = app_access.verify(HOST, "/", cookie, wants_page=False)
    assert app_access.verify_cached(HOST, "/", cookie, wants_page=False) == full and full.status == 200


def test_certificates_are_asked_only_for_existing_apps(alice):
    assert app_access.app_exists("alice.apps.localhost")
    assert not app_access.app_exists("nobody.apps.localhost")
    assert not app_access.app_exists("alice.evil.example")
