"""The Swarm runtime against a real Swarm of three Docker-in-docker nodes (one manager, two workers)."""

from __future__ import annotations

import time
import urllib.request
import uuid

import docker
import pytest

from saas_panel.errors import ContainerNotFound
from saas_panel.runtime.base import VolumeSpec
from saas_panel.runtime.swarm_runtime import SwarmRuntime
from saas_panel.services.image_check import wait_until_answers
from saas_panel.services.provisioning import container_spec

pytestmark = [pytest.mark.engine, pytest.mark.swarm]
MB = 1024 * 1024


@pytest.fixture
def swarm(swarm_fleet, monkeypatch):
    """A SwarmRuntime on the fleet; removes the services and volumes its test made."""
    monkeypatch.setenv("SAAS_PANEL_SWARM_NODE_API", "tcp://{address}:2375")
    manager = docker.DockerClient(base_url=swarm_fleet.manager_url, timeout=60)
    runtime = SwarmRuntime(client=manager)
    prefix = f"t{uuid.uuid4().hex[:8]}-"
    yield runtime, prefix
    for service in manager.services.list(filters={"name": prefix}):
        service.remove()
    for node in runtime.nodes():
        client = docker.DockerClient(base_url=f"tcp://{node.address}:2375", timeout=60)
        _wait_gone(client, {"name": prefix})  # a removed service's containers go within seconds; its volume only then
        for volume in client.volumes.list(filters={"name": prefix}):
            volume.remove(force=True)


def _wait_gone(engine: docker.DockerClient, filters: dict) -> None:
    for _ in range(100):
        if not engine.api.containers(all=True, filters=filters):  # no inspect of each: they are going
            return
        time.sleep(0.2)


def _spec(prefix: str, owner: str, storage_mb: int = 64):
    name = f"{prefix}{owner}"
    return container_spec(name, owner, "saas-panel/user-dashboard:latest", 96, 0.25,
                          data=VolumeSpec(name=f"{name}-data", owner=owner, size_mb=storage_mb))


def _node_engine(runtime: SwarmRuntime, hostname: str) -> docker.DockerClient:
    node = next(node for node in runtime.nodes() if node.hostname == hostname)
    return docker.DockerClient(base_url=f"tcp://{node.address}:2375", timeout=60)


def _task_container(runtime: SwarmRuntime, info):
    engine = _node_engine(runtime, info.node)
    return next(c for c in engine.containers.list(filters={"label": f"com.docker.swarm.service.id={info.id}"}))


def _run(container, script: str) -> str:
    result = container.exec_run(["sh", "-c", script])
    assert result.exit_code == 0, result.output
    return result.output.decode()


def test_nodes_are_the_fleet(swarm, swarm_fleet):
    runtime, _ = swarm
    nodes = runtime.nodes()
    assert sorted(node.hostname for node in nodes) == sorted(name for name, _ in swarm_fleet.nodes)
    assert [node.role for node in nodes].count("manager") == 1
    assert all(node.ready and node.available and node.address for node in nodes)


def test_an_app_runs_hardened_on_a_node_and_answers_the_edge_there(swarm):
    runtime, prefix = swarm
    info = wait_until_answers(runtime, runtime.create(_spec(prefix, "alice")))
    assert info.running and info.node and info.address and info.upstream_port
    with urllib.request.urlopen(f"http://{info.address}:{info.upstream_port}/health", timeout=10) as answer:
        assert answer.status == 200
    container = _task_container(runtime, info)
    host = container.attrs["HostConfig"]
    assert host["ReadonlyRootfs"] and host["CapDrop"] == ["ALL"] and host["Init"]
    assert host["PidsLimit"] == 64 and host["Memory"] == 96 * MB and host["NanoCpus"] == 250_000_000
    assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-file": "3", "max-size": "10m"}}
    assert {"Name": "nofile", "Soft": 1024, "Hard": 1024} in host["Ulimits"]
    assert container.attrs["Config"]["User"] == "65534:65534"
    assert "NoNewPrivs:\t1" in _run(container, "cat /proc/self/status")
    assert "tmpfs" in _run(container, "grep ' /tmp ' /proc/mounts")
    assert "Read-only" in container.exec_run(["sh", "-c", "touch /etc/x"]).output.decode()


def test_files_stay_with_the_app_across_stop_start_and_restart(swarm):
    runtime, prefix = swarm
    info = runtime.create(_spec(prefix, "bob"))
    _run(_task_container(runtime, info), "head -c 1048576 /dev/zero > /data/blob && echo kept > /data/note")
    stopped = runtime.stop(info.id)
    assert not stopped.running and stopped.address is None
    assert {s.name: s.running for s in runtime.list_managed()}[info.name] is False
    started = runtime.start(info.id)
    assert started.running and started.node == info.node  # pinned to the node holding its volume
    restarted = runtime.restart(info.id)
    assert restarted.running and restarted.started_at != started.started_at
    assert _run(_task_container(runtime, restarted), "cat /data/note") == "kept\n"
    volume = _spec(prefix, "bob").data_volume
    assert runtime.volume_usage([volume])[volume.name] >= MB


def test_apps_spread_over_nodes_and_are_listed_with_usage(swarm):
    runtime, prefix = swarm
    first = runtime.create(_spec(prefix, "carol"))
    second = runtime.create(_spec(prefix, "dave"))
    assert first.node != second.node
    listed = {info.name: info for info in runtime.list_managed()}
    assert listed[first.name].running and listed[second.name].node == second.node
    usage = runtime.usage([first.id, second.id])
    assert usage[first.id].mem_bytes > 0 and usage[second.id].mem_limit_bytes == 96 * MB


def test_events_come_from_the_node_running_the_app(swarm):
    runtime, prefix = swarm
    info = runtime.create(_spec(prefix, "erin"))
    stream = runtime.events()
    try:
        _task_container(runtime, info).kill()  # outside the panel: the app dies, Swarm starts another task
        seen = []
        for event in stream:
            seen.append((event.name, event.state))
            if (info.name, "running") in seen:
                break
        assert (info.name, "stopped") in seen
    finally:
        stream.close()


def test_remove_takes_the_service_and_the_volume_on_its_node(swarm):
    runtime, prefix = swarm
    spec = _spec(prefix, "frank")
    info = runtime.create(spec)
    runtime.remove(info.id)
    runtime.remove(info.id)  # already gone: not an error
    with pytest.raises(ContainerNotFound):
        runtime.inspect(info.name)
    _wait_gone(_node_engine(runtime, info.node), {"label": f"com.docker.swarm.service.id={info.id}"})
    assert runtime.remove_volume(spec.data_volume)
    assert not runtime.remove_volume(spec.data_volume)


def test_images_are_those_every_node_has(swarm):
    runtime, _ = swarm
    assert runtime.image_exists("saas-panel/user-dashboard:latest")
    assert not runtime.image_exists("saas-panel/not-here:latest")
    assert "saas-panel/user-dashboard:latest" in runtime.list_images()


def test_an_app_on_a_drained_node_moves_with_its_files(swarm, swarm_fleet):
    runtime, prefix = swarm
    info = runtime.create(_spec(prefix, "gina"))
    _run(_task_container(runtime, info), "mkdir -p /data/notes && echo moved > /data/notes/a")
    manager = docker.DockerClient(base_url=swarm_fleet.manager_url, timeout=60)
    drained = next(n for n in manager.nodes.list() if n.attrs["Description"]["Hostname"] == info.node)
    spec = drained.attrs["Spec"]
    drained.update({**spec, "Availability": "drain"})
    try:
        moved = runtime.move(info.id)
        assert moved.running and moved.node != info.node
        assert _run(_task_container(runtime, moved), "cat /data/notes/a; stat -c %u /data/notes/a") == "moved\n65534\n"
    finally:
        drained.reload()
        drained.update({**drained.attrs["Spec"], "Availability": "active"})


def test_a_single_host_engine_has_nowhere_to_move():
    from saas_panel.errors import EngineError
    from saas_panel.runtime.docker_runtime import DockerRuntime

    with pytest.raises(EngineError, match="single host"):
        DockerRuntime().move("any")
