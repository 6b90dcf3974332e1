"""Each user's files in /data, on a volume of their own, against the real Docker engine."""

from __future__ import annotations

import docker
import pytest
from sqlmodel import select

from saas_panel.db import session_scope
from saas_panel.errors import EngineError
from saas_panel.models import ActivityLog
from saas_panel.runtime.base import MANAGED_LABEL, OWNER_LABEL
from saas_panel.services import auth, provisioning, users

NOTE = "/data/note.txt"


@pytest.fixture
def admin(engine, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_BCRYPT_ROUNDS", "4")
    users.ensure_admin("admin password")
    return auth.authenticate("admin", "admin password")


def _container(docker_client, username: str):
    """By its per-run name: another run may have an "alice" of its own."""
    return docker_client.containers.get(provisioning.container_name(username))


def _run(docker_client, username: str, script: str) -> str:
    """Run `script` in the user's container as its own (non-root) user; its output."""
    result = _container(docker_client, username).exec_run(["sh", "-c", script])
    assert result.exit_code == 0, result.output
    return result.output.decode()


def _write_note(docker_client, username: str) -> None:
    _run(docker_client, username, f"echo kept by $(id -u) > {NOTE}")


def _volume_exists(docker_client, name: str) -> bool:
    try:
        docker_client.volumes.get(name)
    except docker.errors.NotFound:
        return False
    return True


def _logged(action: str, target: str) -> list[ActivityLog]:
    with session_scope() as session:
        return list(session.exec(select(ActivityLog).where(ActivityLog.action == action, ActivityLog.target == target)).all())


def test_a_file_in_data_survives_stop_start_restart_and_recreation(engine, make_user, docker_client):
    make_user("alice")
    provisioning.provision("alice")
    _write_note(docker_client, "alice")
    assert _run(docker_client, "alice", f"cat {NOTE}") == "kept by 65534\n"
    assert _container(docker_client, "alice").exec_run(["sh", "-c", "echo x > /app/x"]).exit_code != 0  # the root stays read-only

    provisioning.control("alice", "stop", actor="alice")
    provisioning.control("alice", "start", actor="alice")
    assert _run(docker_client, "alice", f"cat {NOTE}") == "kept by 65534\n"

    provisioning.control("alice", "restart", actor="alice")
    assert _run(docker_client, "alice", f"cat {NOTE}") == "kept by 65534\n"

    first = _container(docker_client, "alice")
    first.remove(force=True)  # behind the panel's back
    assert provisioning.control("alice", "start", actor="alice").state == "running"
    assert _container(docker_client, "alice").id != first.id
    assert _run(docker_client, "alice", f"cat {NOTE}") == "kept by 65534\n"


def test_each_container_mounts_only_its_own_users_volume(engine, make_user, docker_client):
    owners = {name: make_user(name) for name in ("alice", "bob")}
    for name in owners:
        provisioning.provision(name)
    _write_note(docker_client, "alice")

    for name, user in owners.items():
        [mount] = _container(docker_client, name).attrs["Mounts"]
        assert (mount["Type"], mount["Name"], mount["Destination"]) == ("volume", f"{engine}data-{user.id}", "/data")
        labels = docker_client.volumes.get(mount["Name"]).attrs["Labels"]
        assert labels == {MANAGED_LABEL: "true", OWNER_LABEL: name}
    assert _run(docker_client, "bob", "ls -A /data") == ""


def test_a_volume_labelled_for_someone_else_is_never_mounted(engine, make_user, docker_client):
    carol = make_user("carol")
    name = f"{engine}data-{carol.id}"
    docker_client.volumes.create(name, labels={MANAGED_LABEL: "true", OWNER_LABEL: "mallory"})
    with pytest.raises(EngineError, match="not carol's"):
        provisioning.provision("carol")
    assert docker_client.containers.list(all=True, filters={"label": f"{OWNER_LABEL}=carol"}) == []
    assert docker_client.volumes.get(name).attrs["Labels"][OWNER_LABEL] == "mallory"  # and it is left alone


@pytest.mark.parametrize("container_removed_first", [False, True], ids=["with its container", "after an admin removed the container"])
def test_deleting_the_account_removes_the_volume(engine, make_user, docker_client, container_removed_first):
    dave = make_user("dave")
    provisioning.provision("dave")
    _write_note(docker_client, "dave")
    volume = f"{engine}data-{dave.id}"
    if container_removed_first:
        provisioning.deprovision("dave", actor="dave")
        assert _volume_exists(docker_client, volume)  # removing a container keeps the files
    users.delete_account("dave", actor="dave")
    assert not _volume_exists(docker_client, volume)
    [entry] = _logged("remove_data", "dave")
    assert entry.actor == "dave" and volume in entry.details


def test_an_admin_removes_a_users_files_and_it_is_recorded(engine, make_user, docker_client, admin):
    fay = make_user("fay")
    provisioning.provision("fay")
    _write_note(docker_client, "fay")

    message = users.remove_data(admin, fay.id)
    assert "removed" in message
    assert not _volume_exists(docker_client, f"{engine}data-{fay.id}")
    [entry] = _logged("remove_data", "fay")
    assert entry.actor == "admin"
    assert provisioning.status("fay") is None  # the container went first; the account stays

    provisioning.control("fay", "start", actor="fay")
    assert _run(docker_client, "fay", "ls -A /data") == ""
    users.remove_data(admin, fay.id)
    assert users.remove_data(admin, fay.id) == "fay had no stored files."
