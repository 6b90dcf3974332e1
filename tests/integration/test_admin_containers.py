"""Admin container actions against the real engine: per row, in bulk, detail, and account changes."""

from __future__ import annotations

from sqlmodel import select

from saas_panel.db import session_scope
from saas_panel.models import ActivityLog, Container, User
from saas_panel.services import auth, containers, provisioning, users
from saas_panel.state.admin import ContainersState
from tests.handlers import call, state_with_token


def _admin():
    users.ensure_admin("admin password")
    return auth.login("admin", "admin password")


def _row_id(username: str) -> int:
    with session_scope() as session:
        user = session.exec(select(User).where(User.username == username)).one()
        return session.exec(select(Container.id).where(Container.user_id == user.id)).one()


def _log(action: str) -> list[tuple[str, str | None, str]]:
    with session_scope() as session:
        rows = session.exec(select(ActivityLog).where(ActivityLog.action == action).order_by(ActivityLog.id)).all()
    return [(row.actor, row.target, row.outcome) for row in rows]


def test_admin_stops_starts_and_deletes_a_users_container(engine, make_user, docker_client):
    admin, _ = _admin()
    make_user("alice", "password one")
    provisioning.provision("alice")
    row_id = _row_id("alice")

    assert containers.act(admin, row_id, "stop") == f"{engine}alice"
    assert docker_client.containers.get(f"{engine}alice").status == "exited"
    assert _log("stop") == [("admin", "alice", "success")]
    containers.act(admin, row_id, "start")
    assert docker_client.containers.get(f"{engine}alice").status == "running"

    detail = containers.detail(row_id, tail=20)
    assert detail.owner == "alice" and detail.engine_state == "running"
    assert detail.mem_limit_mb == 128 and ("saas-panel.owner", "alice") in detail.labels

    containers.act(admin, row_id, "delete")
    assert not docker_client.containers.list(all=True, filters={"name": f"{engine}alice"})
    assert _log("remove_container") == [("admin", "alice", "success")]
    assert users.search_users(users.UserQuery(search="alice")).rows[0].container_state == "none"


def test_bulk_stop_and_delete_report_each_container(engine, make_user, docker_client):
    admin, _ = _admin()
    for name in ("bob", "carol", "dave"):
        make_user(name, "password one")
        provisioning.provision(name)
    ids = [_row_id(name) for name in ("bob", "carol", "dave")]

    result = containers.bulk(admin, ids + [999_999], "stop")
    assert sorted(result.done) == sorted(f"{engine}{n}" for n in ("bob", "carol", "dave"))
    assert result.failed == [("999999", "This container no longer exists.")]
    assert {docker_client.containers.get(f"{engine}{n}").status for n in ("bob", "carol", "dave")} == {"exited"}
    assert _log("bulk_stop") == [("admin", "4 containers", "failure")]

    result = containers.bulk(admin, ids[:2], "delete")
    assert len(result.done) == 2 and not result.failed
    remaining = containers.list_containers(containers.ContainerQuery())
    assert [row.owner for row in remaining.rows] == ["dave"]


def test_bulk_from_the_state_uses_the_server_side_selection(engine, make_user, docker_client):
    make_user("erin", "password one")
    provisioning.provision("erin")
    _, token = _admin()
    state = state_with_token(ContainersState, token)
    call(state, ContainersState.event_handlers["load"])
    call(state, ContainersState.event_handlers["toggle_page"], checked=True)
    assert state.selected == [_row_id("erin")]
    updates = call(state, ContainersState.event_handlers["bulk"], action="restart")
    assert "1 done" in str(updates[-1]) and state.selected == [] and state.pending == ""
    assert docker_client.containers.get(f"{engine}erin").status == "running"


def test_disabling_a_user_stops_their_container(engine, make_user, docker_client):
    admin, _ = _admin()
    make_user("frank", "password one")
    provisioning.provision("frank")
    with session_scope() as session:
        frank = session.exec(select(User).where(User.username == "frank")).one()
    assert users.set_active(admin, frank.id, False) is None
    assert docker_client.containers.get(f"{engine}frank").status == "exited"
    assert _log("stop") == [("admin", "frank", "success")]


def test_new_limits_apply_to_the_running_container(engine, make_user, docker_client):
    admin, _ = _admin()
    make_user("gina", "password one")
    provisioning.provision("gina")
    with session_scope() as session:
        gina = session.exec(select(User).where(User.username == "gina")).one()
    assert "applied" in users.set_limits(admin, gina.id, "96", "0.25")
    host_config = docker_client.containers.get(f"{engine}gina").attrs["HostConfig"]
    assert host_config["Memory"] == 96 * 1024 * 1024 == host_config["MemorySwap"]
    assert host_config["NanoCpus"] == 250_000_000
