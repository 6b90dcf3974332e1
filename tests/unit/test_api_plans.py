"""The plan routes in-process on the in-memory engine: scopes, 422s naming the field, 404s, a user's plan change."""

from __future__ import annotations

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from saas_panel import runtime
from saas_panel.api.app import create_api, outermost
from saas_panel.config import get_settings
from saas_panel.db import session_scope
from saas_panel.models import ActivityLog, User
from saas_panel.services import api_tokens, auth, image_check, plans, provisioning, users
from tests.mocking import AddresslessRuntime

SMALL = {"name": "Small", "image": "", "cpu_limit": 0.5, "mem_limit_mb": 256, "storage_mb": 512, "idle_stop_minutes": 30, "is_default": False}


@pytest.fixture
def engine(monkeypatch):
    fake = AddresslessRuntime()
    monkeypatch.setattr(runtime, "_shared", fake)
    monkeypatch.setattr(image_check, "STAYS_UP_S", 0)
    return fake


@pytest.fixture
def api(db, engine, monkeypatch):
    monkeypatch.setenv("PORT", "8765")
    monkeypatch.setenv("SAAS_PANEL_BCRYPT_ROUNDS", "4")
    users.ensure_admin("admin password")
    plans.ensure_default()
    admin = auth.authenticate("admin", "admin password")
    client = TestClient(outermost(create_api()))
    client.read, client.admin = ({"Authorization": f"Bearer {api_tokens.create(admin, scope, scope, 30).token}"} for scope in ("read", "admin"))
    return client


@pytest.fixture
def small(api):
    """A second plan, made through the API, on the image users already run."""
    response = api.post("/api/plans", headers=api.admin, json={**SMALL, "image": get_settings().user_image})
    assert response.status_code == 201, response.text
    return response.json()


def _plans(api) -> list[dict]:
    return api.get("/api/plans", headers=api.read).json()


def _fields(response) -> set[str]:
    assert response.status_code == 422, response.text
    return {str(part) for error in response.json()["detail"] for part in error["loc"]}


def _actions(action: str) -> list[ActivityLog]:
    with session_scope() as session:
        return list(session.exec(select(ActivityLog).where(ActivityLog.action == action)).all())


def test_a_read_token_lists_plans_but_cannot_change_them(api, make_user, small):
    make_user("alice")
    before = _plans(api)
    assert {(plan["name"], plan["users"]) for plan in before} == {(plans.DEFAULT_PLAN_NAME, 2), ("Small", 0)}  # admin, alice
    assert api.get(f"/api/plans/{small['id']}", headers=api.read).json() == small
    assert api.get("/api/users/alice/plan", headers=api.read).json()["limits"]["plan_name"] == plans.DEFAULT_PLAN_NAME
    refused = [
        api.post("/api/plans", headers=api.read, json={**SMALL, "name": "Other", "image": get_settings().user_image}),
        api.patch(f"/api/plans/{small['id']}", headers=api.read, json={"cpu_limit": 2}),
        api.put("/api/users/alice/plan", headers=api.read, json={"plan_id": small["id"]}),
    ]
    assert [response.status_code for response in refused] == [403, 403, 403]
    assert _plans(api) == before
    assert api.get("/api/users/alice/plan", headers=api.read).json()["limits"]["plan_name"] == plans.DEFAULT_PLAN_NAME
    with session_scope() as session:
        denied = session.exec(select(ActivityLog.action).where(ActivityLog.outcome == "denied")).all()
    assert sorted(denied) == ["api_patch", "api_post", "api_put"]


def test_an_admin_creates_and_patches_a_plan_and_both_are_recorded(api, small):
    assert {key: small[key] for key in SMALL} == {**SMALL, "image": get_settings().user_image}
    patched = api.patch(f"/api/plans/{small['id']}", headers=api.admin, json={"cpu_limit": 2, "idle_stop_minutes": None})
    assert patched.status_code == 200, patched.text
    assert patched.json() == {**small, "cpu_limit": 2.0, "idle_stop_minutes": None}
    assert api.get(f"/api/plans/{small['id']}", headers=api.read).json() == patched.json()
    assert [(row.actor, row.target) for row in _actions("create_plan") if row.actor == "admin"] == [("admin", "Small")]
    assert [(row.actor, row.target) for row in _actions("update_plan")] == [("admin", "Small")]


def test_a_plan_on_an_image_missing_from_the_engine_is_422_on_image(api):
    response = api.post("/api/plans", headers=api.admin, json={**SMALL, "image": "nowhere/missing:1"})
    assert _fields(response) == {"body", "image"}
    assert "not on the engine" in response.json()["detail"][0]["msg"]
    assert [plan["name"] for plan in _plans(api)] == [plans.DEFAULT_PLAN_NAME]


def test_storage_below_a_members_measured_usage_is_422_and_kept(api, make_user, small):
    alice = make_user("alice")
    with session_scope() as session:
        user = session.get(User, alice.id)
        user.plan_id, user.storage_used_bytes = small["id"], 300 * plans.MB
    response = api.patch(f"/api/plans/{small['id']}", headers=api.admin, json={"storage_mb": 200})
    assert _fields(response) == {"body", "storage_mb"}
    assert api.get(f"/api/plans/{small['id']}", headers=api.read).json()["storage_mb"] == SMALL["storage_mb"]
    assert api.patch(f"/api/plans/{small['id']}", headers=api.admin, json={"storage_mb": 300}).status_code == 200


def test_unknown_plans_and_users_are_404(api, make_user):
    make_user("alice")
    for method, path, body in [
        ("GET", "/api/plans/999", None),
        ("PATCH", "/api/plans/999", {"cpu_limit": 1}),
        ("PUT", "/api/users/alice/plan", {"plan_id": 999}),
        ("PUT", "/api/users/nobody/plan", {"plan_id": 1}),
        ("GET", "/api/users/nobody/plan", None),
    ]:
        response = api.request(method, path, headers=api.admin, json=body)
        assert response.status_code == 404 and response.json()["detail"], (method, path)


def test_the_default_plan_cannot_be_undefaulted(api):
    [default] = _plans(api)
    response = api.patch(f"/api/plans/{default['id']}", headers=api.admin, json={"is_default": False})
    assert response.status_code == 409 and "default" in response.json()["detail"]
    assert _plans(api) == [default]


def test_moving_a_user_recreates_their_app_on_the_plan(api, make_user, engine, small):
    make_user("alice")
    provisioning.provision("alice")
    response = api.put("/api/users/alice/plan", headers=api.admin, json={"plan_id": small["id"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "Small" in body["message"] and body["user_plan"]["limits"]["plan_id"] == small["id"]
    after = api.get("/api/users/alice/plan", headers=api.read).json()
    assert after == body["user_plan"]
    assert (after["limits"]["storage_mb"], after["storage_used_bytes"]) == (SMALL["storage_mb"], None)
    [container] = [info for info in engine.containers.values() if info.owner == "alice"]
    assert (container.name, container.mem_limit_bytes) == (provisioning.container_name("alice"), SMALL["mem_limit_mb"] * plans.MB)
    assert [(row.actor, row.target, row.outcome) for row in _actions("change_plan")] == [("admin", "alice", "success")]


def test_a_plan_change_that_fails_on_the_engine_is_502_and_keeps_the_old_plan(api, make_user, engine, small, monkeypatch):
    make_user("alice")
    provisioning.provision("alice")
    monkeypatch.setattr(engine, "create", lambda spec: engine.stop(AddresslessRuntime.create(engine, spec).id))  # exits at once
    response = api.put("/api/users/alice/plan", headers=api.admin, json={"plan_id": small["id"]})
    assert response.status_code == 502 and "old plan" in response.json()["detail"]
    assert api.get("/api/users/alice/plan", headers=api.read).json()["limits"]["plan_name"] == plans.DEFAULT_PLAN_NAME
    assert [row.outcome for row in _actions("change_plan")] == ["failure"]


BAD_PLANS = [
    ({"name": "x" * 200}, "name"),
    ({"name": "bad\x00name"}, "name"),
    ({"name": "   "}, "name"),
    ({"image": "two words"}, "image"),
    ({"cpu_limit": -1}, "cpu_limit"),
    ({"cpu_limit": "2"}, "cpu_limit"),
    ({"mem_limit_mb": 1.5}, "mem_limit_mb"),
    ({"mem_limit_mb": 10**9}, "mem_limit_mb"),
    ({"storage_mb": -512}, "storage_mb"),
    ({"storage_mb": "512"}, "storage_mb"),
    ({"idle_stop_minutes": -5}, "idle_stop_minutes"),
    ({"is_default": "yes"}, "is_default"),
    ({"owner": "mallory"}, "owner"),
]


@pytest.mark.parametrize(("change", "field"), BAD_PLANS)
def test_bad_plan_input_is_422_naming_the_field_and_changes_nothing(api, small, change, field):
    before = _plans(api)
    created = api.post("/api/plans", headers=api.admin, json={**SMALL, "name": "Other", "image": small["image"], **change})
    patched = api.patch(f"/api/plans/{small['id']}", headers=api.admin, json=change)
    assert field in _fields(created) and field in _fields(patched)
    assert _plans(api) == before


@pytest.mark.parametrize("body", [{"plan_id": "2"}, {"plan_id": 0}, {"plan_id": 2**40}, {}, {"plan_id": 2, "force": True}])
def test_bad_plan_choice_is_422_and_changes_nothing(api, make_user, small, body):
    make_user("alice")
    assert _fields(api.put("/api/users/alice/plan", headers=api.admin, json=body)) & {"plan_id", "force"}
    assert api.get("/api/users/alice/plan", headers=api.read).json()["limits"]["plan_name"] == plans.DEFAULT_PLAN_NAME


def test_a_null_is_refused_where_a_plan_needs_a_value(api):
    [default] = _plans(api)
    for field in ("cpu_limit", "is_default"):
        assert _fields(api.patch(f"/api/plans/{default['id']}", headers=api.admin, json={field: None})) == {"body", field}
    assert _plans(api) == [default]


def test_openapi_documents_the_plan_routes_with_the_services_bounds(api):
    spec = api.get("/openapi.json").json()
    assert set(spec["paths"]["/api/plans"]) == {"get", "post"}
    assert set(spec["paths"]["/api/plans/{plan_id}"]) == {"get", "patch"}
    assert set(spec["paths"]["/api/users/{username}/plan"]) == {"get", "put"}
    fields = spec["components"]["schemas"]["PlanCreate"]["properties"]
    assert fields["name"]["maxLength"] == plans.NAME_MAX_CHARS and fields["image"]["maxLength"] == plans.IMAGE_MAX_CHARS
    assert (fields["storage_mb"]["minimum"], fields["storage_mb"]["maximum"]) == plans.STORAGE_RANGE_MB
    assert spec["components"]["schemas"]["PlanCreate"]["additionalProperties"] is False
