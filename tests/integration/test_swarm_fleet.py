"""The Swarm test fleet itself (devtools/swarm.py, deploy/swarm-node): three ready nodes, an app
published in host mode on a worker answers the host (the edge) and nothing else, and the images
loaded into the nodes run as an unprivileged user on their vfs storage."""

from __future__ import annotations

import subprocess
import time
import urllib.request

import docker
import pytest
from docker.types import EndpointSpec

from saas_panel.config import get_settings

pytestmark = [pytest.mark.engine, pytest.mark.swarm]
PUBLISHED_PORT = 18080
# Prints how a TCP connection from where it runs ends: open, refused (nothing listens) or dropped.
PROBE = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
    print("open")
except socket.timeout:
    print("dropped")
except OSError:
    print("refused")
"""


@pytest.fixture
def manager(swarm_fleet):
    return docker.DockerClient(base_url=swarm_fleet.manager_url, timeout=60)


def _probe(node: str, address: str, port: int) -> str:
    command = ["docker", "exec", node, "python3", "-c", PROBE, address, str(port)]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


def _get(url: str, timeout_s: float = 60) -> bytes:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with urllib.request.urlopen(url, timeout=3) as answer:
                return answer.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_the_fleet_is_a_manager_and_two_ready_workers(swarm_fleet, manager):
    nodes = {node.attrs["Description"]["Hostname"]: node.attrs for node in manager.nodes.list()}
    assert sorted(nodes) == sorted(name for name, _ in swarm_fleet.nodes)
    assert all(attrs["Status"]["State"] == "ready" for attrs in nodes.values())
    assert [attrs["Spec"]["Role"] for attrs in nodes.values()].count("manager") == 1
    assert nodes[swarm_fleet.nodes[0].name]["Spec"]["Role"] == "manager"
    assert {attrs["Status"]["Addr"] for attrs in nodes.values()} == {address for _, address in swarm_fleet.nodes}


def test_an_app_published_on_a_worker_answers_the_edge_and_no_other_node(swarm_fleet, manager):
    (manager_node, _), (worker, address) = swarm_fleet.nodes[:2]
    service = manager.services.create(
        get_settings().user_image, name="fleet-probe",
        constraints=[f"node.hostname=={worker}"],
        endpoint_spec=EndpointSpec(ports={PUBLISHED_PORT: (get_settings().user_app_port, "tcp", "host")}),
    )
    try:
        assert b'"ok"' in _get(f"http://{address}:{PUBLISHED_PORT}/health")  # from the host: the edge
        assert _probe(manager_node, address, PUBLISHED_PORT) == "dropped"
        # Not for want of a route: the same node reaches the worker's engine, and finds a closed port closed.
        assert _probe(manager_node, address, 2375) == "open"
        assert _probe(manager_node, address, PUBLISHED_PORT + 1) == "refused"
    finally:
        service.remove()


def test_a_user_can_reach_the_root_of_the_loaded_image(swarm_fleet):
    # vfs copies the image's root directory as it is: with a 0700 one, no user but root could even reach /.
    engine = swarm_fleet.engine(swarm_fleet.nodes[1].name)
    listing = engine.containers.run(get_settings().user_image, ["ls", "/"], user="65534:65534", remove=True)
    assert "app" in listing.decode().split()
