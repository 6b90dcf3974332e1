"""Provisioning against the real Docker engine."""

from __future__ import annotations

import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import docker
import pytest
from sqlmodel import select

from saas_panel.db import session_scope
from saas_panel.errors import DomainError, EngineUnavailable
from saas_panel.models import ActivityLog, Container, User
from saas_panel.runtime.base import OWNER_LABEL
from saas_panel.runtime.docker_runtime import TMPFS_OPTIONS, DockerRuntime
from saas_panel.services import auth, provisioning, users


def _owned(docker_client, username: str):
    return docker_client.containers.list(all=True, filters={"label": f"{OWNER_LABEL}={username}"})


def _rows(username: str) -> list[Container]:
    with session_scope() as session:
        return session.exec(select(Container).join(User, User.id == Container.user_id).where(User.username == username)).all()


def wait_http_ok(port: int, path: str = "/health", timeout: float = 15) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
                return response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_provision_creates_one_hardened_container(engine, make_user, docker_client):
    user = make_user("alice")
    view = provisioning.provision("alice")
    assert view.state == "running" and view.host_port

    [container] = _owned(docker_client, "alice")
    attrs = container.attrs
    host = attrs["HostConfig"]
    assert container.name == f"{engine}alice"
    assert attrs["Config"]["Labels"]["saas-panel.managed"] == "true"
    assert host["CapDrop"] == ["ALL"] and not host["CapAdd"]
    assert not host["Privileged"]
    assert "no-new-privileges:true" in host["SecurityOpt"]
    assert host["PidsLimit"] == 64
    assert host["Memory"] == 128 * 1024 * 1024 == host["MemorySwap"]
    assert host["NanoCpus"] == 500_000_000
    assert host["ReadonlyRootfs"] is True
    assert host["Tmpfs"] == {"/tmp": TMPFS_OPTIONS} and {"noexec", "nosuid", "nodev"} <= set(TMPFS_OPTIONS.split(","))
    assert host["Ulimits"] == [{"Name": "nofile", "Soft": 1024, "Hard": 1024}]
    assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}}
    assert attrs["Config"]["User"] == "65534:65534"
    assert host["Init"] is True
    assert host["RestartPolicy"]["Name"] == "unless-stopped"
    assert not host.get("Binds")  # no host path: the only mount is the user's own volume, at /data
    [mount] = attrs["Mounts"]
    assert (mount["Type"], mount["Name"], mount["Destination"], mount["RW"]) == ("volume", f"{engine}data-{user.id}", "/data", True)
    assert host["PortBindings"]["8080/tcp"][0]["HostIp"] == "127.0.0.1"
    network = docker_client.networks.get(host["NetworkMode"])
    assert network.attrs["Options"]["com.docker.network.bridge.enable_icc"] == "false"

    assert b"ok" in wait_http_ok(view.host_port)
    assert view.host_port == int(attrs["NetworkSettings"]["Ports"]["8080/tcp"][0]["HostPort"])


def test_provisioning_is_idempotent(engine, make_user, docker_client):
    make_user("bob")
    first = provisioning.provision("bob")
    second = provisioning.provision("bob")
    assert first.engine_id == second.engine_id and first.host_port == second.host_port
    assert len(_owned(docker_client, "bob")) == 1
    assert len(_rows("bob")) == 1


def test_retry_after_crash_between_row_and_container(engine, make_user, docker_client):
    make_user("carol")
    provisioning._claim_row("carol")  # step 1 done, then the process "died"
    assert [row.state for row in _rows("carol")] == ["provisioning"]
    assert _owned(docker_client, "carol") == []
    view = provisioning.provision("carol")
    assert view.state == "running"
    assert len(_owned(docker_client, "carol")) == 1 and len(_rows("carol")) == 1


def test_retry_after_crash_between_container_and_running(engine, make_user, docker_client, monkeypatch):
    make_user("dave")
    original = provisioning.save_engine_state

    def crash(*args, **kwargs):
        raise RuntimeError("simulated crash after the container was created")

    monkeypatch.setattr(provisioning, "save_engine_state", crash)
    with pytest.raises(RuntimeError):
        provisioning.provision("dave")
    assert len(_owned(docker_client, "dave")) == 1
    monkeypatch.setattr(provisioning, "save_engine_state", original)
    view = provisioning.provision("dave")
    assert view.state == "running"
    assert len(_owned(docker_client, "dave")) == 1 and len(_rows("dave")) == 1


def test_twenty_concurrent_signups(engine, docker_client):
    names = [f"user{i:02d}" for i in range(20)]

    def signup(name: str):
        auth.register(name, f"{name}@example.com", "a good password")
        return provisioning.provision(name)

    with ThreadPoolExecutor(max_workers=20) as pool:
        futures = [pool.submit(signup, name) for name in names]
        errors = [f.exception() for f in futures if f.exception() is not None]
    assert errors == []
    views = [f.result() for f in futures]
    assert all(v.state == "running" for v in views)
    ports = [v.host_port for v in views]
    assert len(set(ports)) == 20
    assert len(docker_client.containers.list(all=True, filters={"name": engine})) == 20


def test_same_user_provisioned_concurrently_gets_one_container(engine, make_user, docker_client):
    make_user("erin")
    with ThreadPoolExecutor(max_workers=6) as pool:
        views = list(pool.map(lambda _: provisioning.provision("erin"), range(6)))
    assert len({v.engine_id for v in views}) == 1
    assert len(_owned(docker_client, "erin")) == 1 and len(_rows("erin")) == 1


def test_stop_start_restart(engine, make_user, docker_client):
    make_user("fay")
    provisioning.provision("fay")
    started = time.monotonic()
    stopped = provisioning.control("fay", "stop", actor="fay")
    print(f"stop took {time.monotonic() - started:.2f}s")
    assert stopped.state == "stopped"
    assert _owned(docker_client, "fay")[0].status == "exited"
    assert provisioning.control("fay", "start", actor="fay").state == "running"
    restarted = provisioning.control("fay", "restart", actor="fay")
    assert restarted.state == "running"
    wait_http_ok(restarted.host_port)
    with session_scope() as session:
        actions = session.exec(select(ActivityLog.action).where(ActivityLog.target == "fay")).all()
    assert {"provision", "stop", "start", "restart"} <= set(actions)


def test_container_removed_outside_the_panel_shows_missing_then_comes_back(engine, make_user, docker_client):
    make_user("gil")
    provisioning.provision("gil")
    _owned(docker_client, "gil")[0].remove(force=True)
    assert provisioning.status("gil").state == "missing"
    assert provisioning.control("gil", "start", actor="gil").state == "running"
    assert len(_owned(docker_client, "gil")) == 1


def test_deleting_the_account_removes_the_container(engine, make_user, docker_client):
    make_user("hank")
    provisioning.provision("hank")
    users.delete_account("hank", actor="hank")
    assert _owned(docker_client, "hank") == []
    with session_scope() as session:
        assert session.exec(select(User).where(User.username == "hank")).first() is None
        assert session.exec(select(Container)).all() == []
        assert session.exec(select(ActivityLog).where(ActivityLog.action == "delete_user")).one().target == "hank"


def test_engine_unavailable_is_a_clear_error_and_recorded(engine, make_user):
    make_user("ivan")
    dead = DockerRuntime(client=docker.DockerClient(base_url="unix:///nonexistent/docker.sock", version="1.41", timeout=2))
    with pytest.raises(EngineUnavailable, match="unavailable"):
        provisioning.provision("ivan", runtime=dead)
    [row] = _rows("ivan")
    assert row.state == "error" and "unavailable" in row.error
    assert dead.ping() is False
    # Once the engine is back, a retry succeeds with the same row.
    assert provisioning.provision("ivan").state == "running"
    assert len(_rows("ivan")) == 1


def test_a_delete_racing_a_signup_leaves_no_orphan_container(engine, make_user, docker_client):
    """Signup's background provisioning and an account deletion at the same moment: whichever
    wins, no container or volume outlives the account (removing them takes provision's per-user lock)."""
    names = [f"race{n}" for n in range(6)]
    for name in names:
        make_user(name)

    def provision(name):
        try:
            provisioning.provision(name)
        except DomainError:
            pass  # the account went first: nothing to create

    def delete(name):
        time.sleep(0.02 * (names.index(name) % 3))  # land at different steps of the provisioning
        users.delete_account(name, actor=name)

    with ThreadPoolExecutor(max_workers=len(names) * 2) as pool:
        futures = [pool.submit(provision, name) for name in names] + [pool.submit(delete, name) for name in names]
        for future in futures:
            future.result()
    left = docker_client.containers.list(all=True, filters={"label": f"{OWNER_LABEL}", "name": engine})
    assert [c.name for c in left] == []
    assert docker_client.volumes.list(filters={"name": engine}) == []
    with session_scope() as session:
        assert session.exec(select(Container)).all() == [] and session.exec(select(User)).all() == []
