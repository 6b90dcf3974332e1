"""The REST API against the real engine: provision, ports, container actions, stats."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from saas_panel.api.app import create_api
from saas_panel.services import api_tokens, auth, users


@pytest.fixture
def api(engine):
    users.ensure_admin("admin password")
    admin = auth.authenticate("admin", "admin password")
    client = TestClient(create_api())
    client.headers["Authorization"] = f"Bearer {api_tokens.create(admin, 'ci', 'admin', 30).token}"
    return client


def test_provision_is_idempotent_201_then_200(api, engine, docker_client):
    first = api.post("/api/provision", json={"username": "alice", "email": "alice@example.com"})
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["username"], body["state"], body["created"]) == ("alice", "running", True)
    assert body["port"] and body["container_id"] >= 1
    container = docker_client.containers.get(f"{engine}alice")
    assert container.id == body["engine_id"]

    again = api.post("/api/provision", json={"username": "alice", "email": "alice@example.com"})
    assert again.status_code == 200 and again.json()["container_id"] == body["container_id"] and again.json()["port"] == body["port"]
    assert len(docker_client.containers.list(all=True, filters={"name": f"{engine}alice"})) == 1

    other_email = api.post("/api/provision", json={"username": "alice", "email": "mallory@example.com"})
    assert other_email.status_code == 409


def test_provision_gives_an_existing_user_without_a_container_one(api, make_user):
    make_user("bob")
    response = api.post("/api/provision", json={"username": "bob", "email": "bob@example.com"})
    assert response.status_code == 201 and response.json()["state"] == "running"


def test_port_for_owner_and_admin_and_the_same_404_for_everyone_else(api, make_user):
    make_user("carol")
    port = api.post("/api/provision", json={"username": "carol", "email": "carol@example.com"}).json()["port"]
    make_user("dave")
    _, carol_session = auth.login("carol", "correct horse")
    _, dave_session = auth.login("dave", "correct horse")
    anonymous = TestClient(create_api())

    assert api.get("/api/user/carol/port").json() == {
        "username": "carol", "port": port, "state": "running", "app_url": "http://carol.apps.localhost:8000/",
    }
    as_carol = anonymous.get("/api/user/carol/port", headers={"Authorization": f"Bearer {carol_session}"})
    assert as_carol.status_code == 200 and as_carol.json()["port"] == port

    dave = {"Authorization": f"Bearer {dave_session}"}
    someone_elses = anonymous.get("/api/user/carol/port", headers=dave)
    unknown = anonymous.get("/api/user/nobody/port", headers=dave)
    no_container = anonymous.get("/api/user/dave/port", headers=dave)
    assert someone_elses.status_code == unknown.status_code == no_container.status_code == 404
    assert someone_elses.json() == unknown.json() == no_container.json()
    assert api.get("/api/user/nobody/port").status_code == 404
    assert anonymous.get("/api/user/carol/port").status_code == 401
    assert anonymous.get("/api/users", headers=dave).status_code == 401  # a session is good for the port route only


def test_start_stop_restart_delete_and_list(api, engine, docker_client):
    container_id = api.post("/api/provision", json={"username": "erin", "email": "erin@example.com"}).json()["container_id"]
    assert api.post(f"/api/containers/{container_id}/stop").json() == {"container_id": container_id, "name": f"{engine}erin", "action": "stop"}
    assert docker_client.containers.get(f"{engine}erin").status == "exited"
    assert api.get(f"/api/containers/{container_id}").json()["state"] == "stopped"
    assert api.post(f"/api/containers/{container_id}/start").status_code == 200
    assert api.post(f"/api/containers/{container_id}/restart").status_code == 200
    listed = api.get("/api/containers", params={"state": "running", "owner": "erin"}).json()
    assert [row["id"] for row in listed["items"]] == [container_id]
    stats = api.get("/api/admin/stats").json()
    assert stats["containers"]["running"] == 1 and stats["users_total"] == 2 and stats["engine_ok"] is True
    assert api.delete(f"/api/containers/{container_id}").status_code == 200
    assert docker_client.containers.list(all=True, filters={"name": f"{engine}erin"}) == []
    assert api.get(f"/api/containers/{container_id}").status_code == 404
    log = api.get("/api/activity", params={"target": "erin", "actor": "admin"}).json()
    assert {"stop", "start", "restart", "remove_container", "provision"} <= {row["action"] for row in log["items"]}
