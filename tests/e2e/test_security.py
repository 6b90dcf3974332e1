"""Security checks against a real panel: headers, origins, forged websocket events, isolation, escaping."""

from __future__ import annotations

import inspect
import json
import time
import urllib.error
import urllib.request
import uuid
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from reflex.state import UpdateVarsInternalState
from sqlmodel import func, select
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from saas_panel.db import session_scope
from saas_panel.models import ActivityLog, ApiToken, Container, User
from saas_panel.services import api_tokens, auth, provisioning
from saas_panel.state.auth import TOKEN_STORAGE_KEY, AuthState
from tests.e2e.conftest import ADMIN_PASSWORD
from tests.e2e.helpers import enter_app, submit_when_ready
from tests.handlers import admin_handlers, admin_states, forged_args

EVIL = "https://evil.example"
PROVISION_TIMEOUT_MS = 60_000
EVENT_NAMESPACE = "/_event"


def _ws_url(base_url: str, client_token: str) -> str:
    return base_url.replace("http://", "ws://") + f"{EVENT_NAMESPACE}/?EIO=4&transport=websocket&token={client_token}"


def _headers(url: str, **request_headers) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers=request_headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}


def test_security_headers_on_real_responses(panel):
    for path in ("/login/", "/admin/users/", "/ping", "/openapi.json", "/api/users"):
        status, headers = _headers(panel + path)
        assert status in (200, 401), (path, status)
        csp = headers["content-security-policy"]
        assert all(d in csp for d in ("frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'")), path
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"], path
        assert "strict-transport-security" not in headers  # plain http, no trusted proxy


def test_websocket_refuses_a_foreign_origin(panel):
    with pytest.raises(InvalidStatus) as refused:
        connect(_ws_url(panel, str(uuid.uuid4())), origin=EVIL, open_timeout=10).close()
    assert refused.value.response.status_code in (400, 403)
    with connect(_ws_url(panel, str(uuid.uuid4())), origin=panel, open_timeout=10) as socket:
        assert socket.recv(timeout=10).startswith("0{")  # the engine.io open packet: accepted


def test_api_refuses_a_foreign_origin(panel):
    request = urllib.request.Request(
        panel + "/api/provision", data=b'{"username": "evil", "email": "evil@example.com"}', method="POST",
        headers={"Origin": EVIL, "Content-Type": "application/json", "Authorization": "Bearer spk_whatever"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403
    assert "access-control-allow-origin" not in {k.lower() for k in refused.value.headers}


@pytest.fixture
def panel_db(panel_process, monkeypatch):
    """This process talks to the running panel's database (and its container prefix)."""
    monkeypatch.setenv("REFLEX_DB_URL", panel_process.db_url)
    monkeypatch.setenv("SAAS_PANEL_CONTAINER_PREFIX", panel_process.container_prefix)
    return panel_process


def _snapshot(victim: str) -> tuple:
    with session_scope() as session:
        user = session.exec(select(User).where(User.username == victim)).one()
        container = session.exec(select(Container).where(Container.user_id == user.id)).one()
        return (
            session.exec(select(func.count()).select_from(User)).one(),
            session.exec(select(func.count()).select_from(Container)).one(),
            (user.is_active, user.role, user.password_hash, user.mem_limit_mb, user.cpu_limit),
            (container.id, container.engine_id),
            [(t.id, t.revoked_at) for t in session.exec(select(ApiToken)).all()],
        )


def _count(actor: str, denied: bool) -> int:
    outcome = (ActivityLog.outcome == "denied") if denied else (ActivityLog.outcome != "denied")
    with session_scope() as session:
        return session.exec(select(func.count()).select_from(ActivityLog).where(ActivityLog.actor == actor, outcome)).one()


def _emit(socket, name: str, payload: dict, path: str = "/admin") -> None:
    event = {"name": name, "payload": payload, "router_data": {"pathname": path, "asPath": path}}
    socket.send(f"42{EVENT_NAMESPACE}," + json.dumps(["event", event]))


def test_forged_admin_events_over_a_raw_websocket_change_nothing(panel, panel_db):
    import docker

    victim, mallory = f"v{uuid.uuid4().hex[:8]}", f"m{uuid.uuid4().hex[:8]}"
    victim_user = auth.register(victim, f"{victim}@example.com", "victim password")
    auth.register(mallory, f"{mallory}@example.com", "mallory password")
    provisioning.provision(victim)
    container_id = provisioning.container_row_id(victim)
    admin = auth.authenticate("admin", ADMIN_PASSWORD)
    token_id = api_tokens.create(admin, f"t-{victim}", "admin", 1).id
    _, mallory_session = auth.login(mallory, "mallory password")
    before, mallory_actions = _snapshot(victim), _count(mallory, denied=False)
    forged = forged_args(victim_user.id, container_id, token_id)

    frames: list[str] = []
    sent = 0
    with connect(_ws_url(panel, str(uuid.uuid4())), origin=panel, open_timeout=10) as socket:
        assert socket.recv(timeout=10).startswith("0{")
        socket.send(f"40{EVENT_NAMESPACE},")
        # What the page does on load: hand the backend the session token from localStorage.
        _emit(socket, f"{UpdateVarsInternalState.get_full_name()}.update_vars_internal", {"vars": {f"{AuthState.get_full_name()}.session_token": mallory_session}}, "/login")
        for state_cls in admin_states():
            for name, handler in admin_handlers(state_cls).items():
                params = [p for p in inspect.signature(handler.fn).parameters if p != "self"]
                _emit(socket, f"{state_cls.get_full_name()}.{name}", {p: forged[p] for p in params})
                sent += 1
        deadline, quiet_since, seen = time.monotonic() + 60, time.monotonic(), 0
        while time.monotonic() < deadline and (seen == 0 or time.monotonic() - quiet_since < 3):
            try:
                frame = socket.recv(timeout=0.5)
            except TimeoutError:
                frame = None
            if frame == "2":  # engine.io ping
                socket.send("3")
            if frame:
                frames.append(frame)
            if (now := _count(mallory, denied=True)) != seen:
                seen, quiet_since = now, time.monotonic()

    assert sent >= 30
    # Every kind of refused action is logged, once a minute per account and action (no flooding).
    with session_scope() as session:
        denied = session.exec(select(ActivityLog.action).where(ActivityLog.actor == mallory, ActivityLog.outcome == "denied")).all()
    assert len(denied) == len(set(denied)) >= 8
    assert _count(mallory, denied=False) == mallory_actions
    assert _snapshot(victim) == before
    assert docker.from_env().containers.get(before[3][1]).status == "running"
    leaked = [frame for frame in frames if f"{victim}@example.com" in frame or "spk_" in frame]
    assert leaked == []


def test_a_users_container_never_receives_a_panel_session(page):
    name = f"h{uuid.uuid4().hex[:10]}"
    submit_when_ready(page, "/signup", {"username": name, "email": f"{name}@example.com", "password": "e2e user password"}, "#signup-submit")
    page.wait_for_url("**/dashboard**")
    expect(page.locator("#container-status")).to_have_text("running", timeout=PROVISION_TIMEOUT_MS)
    session_token = page.evaluate(f"localStorage.getItem('{TOKEN_STORAGE_KEY}')")
    assert session_token and len(session_token) >= 40
    app_url = page.locator("#open-app").get_attribute("href")
    assert app_url.startswith(f"http://{name}.apps.localhost:")  # its own origin: no shared storage

    enter_app(page, app_url + "echo-headers")  # same browser, through the edge's hand-off
    response = page.reload()
    assert response.status == 200
    received = {key.lower(): value for key, value in response.json().items()}
    assert "authorization" not in received and "saas_app" not in received.get("cookie", "")
    assert session_token not in json.dumps(received)
    # The only cookie is the app's own, host-only, HttpOnly one; the panel sets none.
    assert [(c["name"], c["domain"], c["httpOnly"]) for c in page.context.cookies()] == [("saas_app", urlsplit(app_url).hostname, True)]


def test_html_in_names_is_shown_as_text(page):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    hostile = "<img src=x onerror=alert(1)>"
    submit_when_ready(page, "/login", {"username": hostile, "password": "not a password"}, "#login-submit")  # logged in the details
    expect(page.locator("#form-error")).to_have_text(auth.INVALID_CREDENTIALS)

    submit_when_ready(page, "/login", {"username": "admin", "password": ADMIN_PASSWORD}, "#login-submit")
    page.wait_for_url("**/admin**")
    page.goto("/admin/activity")
    page.fill("#activity-search", "onerror")
    row = page.locator("tbody tr", has_text=hostile).first
    expect(row).to_be_visible()
    assert page.locator("tbody img").count() == 0
    page.wait_for_timeout(500)
    assert dialogs == []
