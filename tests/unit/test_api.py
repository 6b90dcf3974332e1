"""The REST API in-process (no engine): bearer auth, scopes, 422s, origins, headers, rate limits."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from saas_panel.api.app import create_api, outermost
from saas_panel.db import session_scope
from saas_panel.models import ActivityLog, Container
from saas_panel.services import activity, api_tokens, auth, plans, users

EVIL = "https://evil.example"


@pytest.fixture
def api(db, monkeypatch):
    monkeypatch.setenv("PORT", "8765")
    users.ensure_admin("admin password")
    admin = auth.authenticate("admin", "admin password")
    tokens = {scope: api_tokens.create(admin, scope, scope, 30).token for scope in ("read", "admin")}
    client = TestClient(outermost(create_api()))
    client.tokens = tokens
    return client


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_every_route_needs_a_valid_bearer_token(api):
    for method, path in [("GET", "/api/users"), ("GET", "/api/activity"), ("GET", "/api/admin/stats"), ("POST", "/api/provision"), ("DELETE", "/api/containers/1"),
                         ("GET", "/api/plans"), ("PATCH", "/api/plans/1"), ("PUT", "/api/users/abc/plan")]:
        for headers in ({}, bearer("spk_nope"), {"Authorization": "Basic YWRtaW46YWRtaW4="}):
            response = api.request(method, path, headers=headers, json={"username": "abc", "email": "a@b.co"})
            assert response.status_code == 401, (method, path, headers)
            assert response.headers["www-authenticate"] == "Bearer"


def test_a_panel_session_is_not_an_api_token(api):
    _, session_token = auth.login("admin", "admin password")
    assert api.get("/api/users", headers=bearer(session_token)).status_code == 401


def test_read_scope_reads_but_cannot_change_and_the_refusal_is_logged(api):
    read = bearer(api.tokens["read"])
    assert api.get("/api/users", headers=read).status_code == 200
    response = api.post("/api/provision", headers=read, json={"username": "newbie", "email": "newbie@example.com"})
    assert response.status_code == 403 and "scope" in response.json()["detail"]
    assert api.post("/api/containers/1/stop", headers=read).status_code == 403
    assert api.delete("/api/containers/1", headers=read).status_code == 403
    with session_scope() as session:
        denied = session.exec(select(ActivityLog).where(ActivityLog.outcome == "denied")).all()
    assert [(row.actor, row.action) for row in denied] == [("admin", "api_post"), ("admin", "api_post"), ("admin", "api_delete")]
    assert users.find_user("newbie") is None


def test_users_list_filters_and_pages(api, make_user):
    for name in ("alice", "bob", "carol"):
        make_user(name)
    read = bearer(api.tokens["read"])
    body = api.get("/api/users", params={"role": "user", "per_page": 2, "sort": "username", "descending": True}, headers=read).json()
    assert (body["total"], body["pages"], [u["username"] for u in body["items"]]) == (3, 2, ["carol", "bob"])
    body = api.get("/api/users", params={"search": "ALI"}, headers=read).json()
    assert [u["email"] for u in body["items"]] == ["alice@example.com"]
    assert api.get("/api/users/bob", headers=read).json()["role"] == "user"
    body = api.get("/api/users", params={"role": "user", "plan": plans.DEFAULT_PLAN_NAME}, headers=read).json()
    assert body["total"] == 3  # users without a plan are on the default one
    assert api.get("/api/users", params={"plan": "no such plan"}, headers=read).json()["total"] == 0
    assert api.get("/api/users/nobody", headers=read).status_code == 404


def test_times_are_iso_8601_in_utc(api, make_user):
    alice = make_user("alice")
    started = datetime(2030, 6, 1, 12, 0, 5, tzinfo=timezone.utc)
    with session_scope() as session:
        session.add(Container(user_id=alice.id, name="c-alice", image="img", state="running", started_at=started))
    read = bearer(api.tokens["read"])
    [user] = api.get("/api/users", params={"search": "alice"}, headers=read).json()["items"]
    assert datetime.fromisoformat(user["created_at"]).utcoffset() is not None and user["last_login_at"] is None
    [container] = api.get("/api/containers", headers=read).json()["items"]
    assert datetime.fromisoformat(container["started_at"]) == started and container["host_port"] is None
    assert api.get(f"/api/containers/{container['id']}", headers=read).json() == container
    [latest, *_] = api.get("/api/activity", headers=read).json()["items"]
    assert datetime.fromisoformat(latest["time"]).utcoffset() is not None


def test_activity_filters_and_pages(api):
    for n in range(5):
        activity.record("stop", actor="admin", target=f"user{n}")
    activity.record("login", actor="system", target="mallory", outcome="failure")
    read = bearer(api.tokens["read"])
    body = api.get("/api/activity", params={"action": "stop", "per_page": 2, "page": 3}, headers=read).json()
    assert (body["total"], body["page"], [r["target"] for r in body["items"]]) == (5, 3, ["user0"])
    body = api.get("/api/activity", params={"outcome": "failure"}, headers=read).json()
    assert [(r["actor"], r["target"]) for r in body["items"]] == [("system", "mallory")]
    body = api.get("/api/activity", params={"date_from": "2000-01-01", "date_to": "9999-12-31"}, headers=read).json()
    assert body["total"] >= 6


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "field"),
    [
        ("POST", "/api/provision", {"json": {"username": "Bad Name", "email": "x@example.com"}}, "username"),
        ("POST", "/api/provision", {"json": {"username": "good", "email": "not-an-email"}}, "email"),
        ("POST", "/api/provision", {"json": {"username": "good"}}, "email"),
        ("POST", "/api/provision", {"content": b"{not json", "headers": {"content-type": "application/json"}}, None),
        ("GET", "/api/users", {"params": {"per_page": 1000}}, "per_page"),
        ("GET", "/api/users", {"params": {"page": 2**40}}, "page"),
        ("GET", "/api/users", {"params": {"sort": "password_hash"}}, "sort"),
        ("GET", "/api/activity", {"params": {"date_from": "yesterday"}}, "date_from"),
        ("GET", "/api/activity", {"params": {"actor": "a\x00b"}}, "actor"),
        ("GET", "/api/containers/0", {}, "container_id"),
        ("GET", "/api/containers/99999999999", {}, "container_id"),
        ("POST", "/api/containers/1/explode", {}, "action"),
        ("GET", "/api/user/Robert%27%20OR%201=1/port", {}, "username"),
    ],
)
def test_bad_input_is_422_naming_the_field(api, method, path, kwargs, field):
    headers = {**bearer(api.tokens["admin"]), **kwargs.pop("headers", {})}
    response = api.request(method, path, headers=headers, **kwargs)
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert all(error["msg"] for error in errors)
    if field:
        assert field in {str(part) for error in errors for part in error["loc"]}


def test_unknown_container_is_404(api):
    response = api.get("/api/containers/12345", headers=bearer(api.tokens["read"]))
    assert response.status_code == 404 and response.json()["detail"]


def test_foreign_origins_are_refused_even_with_a_valid_token(api):
    admin = bearer(api.tokens["admin"])
    response = api.post("/api/provision", headers={**admin, "Origin": EVIL}, json={"username": "x" * 3, "email": "x@example.com"})
    assert response.status_code == 403 and "origin" in response.json()["detail"]
    assert api.get("/api/users", headers={**admin, "Origin": "null"}).status_code == 403
    assert api.get("/api/users", headers={**admin, "Origin": "http://localhost:8765"}).status_code == 200
    assert api.get("/api/users", headers=admin).status_code == 200  # scripts send no Origin


def test_state_changing_routes_ignore_cookies(api):
    """CSRF: a same-site form post carries cookies, never a bearer header; it gets 401."""
    _, session_token = auth.login("admin", "admin password")
    api.cookies.set("saas_panel_session", session_token)
    response = api.post("/api/provision", json={"username": "csrf", "email": "csrf@example.com"}, headers={"Origin": "http://localhost:8765"})
    assert response.status_code == 401
    assert users.find_user("csrf") is None


def test_security_headers_on_every_response(api):
    for response in (api.get("/api/users"), api.get("/openapi.json"), api.get("/docs"), api.get("/api/users", headers={"Origin": EVIL})):
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp and "base-uri 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert "strict-transport-security" not in response.headers  # plain http


def test_hsts_only_over_tls_or_a_trusted_proxy(db, monkeypatch):
    assert "max-age=31536000" in TestClient(outermost(create_api()), base_url="https://panel.test").get("/openapi.json").headers["strict-transport-security"]
    spoofed = TestClient(outermost(create_api())).get("/openapi.json", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" not in spoofed.headers
    monkeypatch.setenv("SAAS_PANEL_TRUST_PROXY", "1")
    proxied = TestClient(outermost(create_api())).get("/openapi.json", headers={"X-Forwarded-Proto": "https"})
    assert "strict-transport-security" in proxied.headers


def test_api_calls_are_limited_per_token(api, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_API_RATE_LIMIT", "3")
    read, other = bearer(api.tokens["read"]), bearer(api.tokens["admin"])
    assert [api.get("/api/users", headers=read).status_code for _ in range(3)] == [200] * 3
    refused = api.get("/api/users", headers=read)
    assert refused.status_code == 429 and 0 < int(refused.headers["retry-after"]) <= 60
    assert api.get("/api/users", headers=other).status_code == 200  # another token has its own budget


def test_openapi_documents_the_bearer_scheme(api):
    spec = api.get("/openapi.json").json()
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert {"/api/provision", "/api/admin/stats", "/api/user/{username}/port", "/api/activity", "/api/plans", "/api/users/{username}/plan"} <= set(spec["paths"])


def test_alert_rules_over_the_api_never_show_the_webhook_url_or_secret_again(api, make_user):
    make_user("alice")
    body = {"name": "disk", "metric": "storage", "threshold": 90, "for_seconds": 0, "scope": "user", "scope_target": "alice",
            "webhook_url": "https://hooks.example/x?token=hidden"}
    assert api.post("/api/alert-rules", json=body, headers=bearer(api.tokens["read"])).status_code == 403
    created = api.post("/api/alert-rules", json=body, headers=bearer(api.tokens["admin"]))
    assert created.status_code == 201, created.text
    secret = created.json()["webhook_secret"]
    assert len(secret) >= 40 and created.json()["rule"]["webhook_host"] == "hooks.example"
    listed = api.get("/api/alert-rules", headers=bearer(api.tokens["read"]))
    assert [rule["name"] for rule in listed.json()] == ["disk"]
    assert secret not in listed.text and "hidden" not in listed.text
    assert api.post("/api/alert-rules", json=body | {"threshold": "90"}, headers=bearer(api.tokens["admin"])).status_code == 422
    assert api.post("/api/alert-rules", json=body | {"threshold": 150}, headers=bearer(api.tokens["admin"])).status_code == 422  # the service's bound
    assert api.post("/api/alert-rules", json=body, headers=bearer(api.tokens["admin"])).status_code == 409
    assert api.get("/api/alerts", params={"firing": True}, headers=bearer(api.tokens["read"])).json() == []
    rule_id = listed.json()[0]["id"]
    assert api.delete(f"/api/alert-rules/{rule_id}", headers=bearer(api.tokens["admin"])).json() == {"deleted": "disk"}
    assert api.delete(f"/api/alert-rules/{rule_id}", headers=bearer(api.tokens["admin"])).status_code == 404
