"""A user's container: bounded logs and open files, and no connection to the host,
to link-local (cloud metadata) or to private addresses; the panel still reaches it.

The firewall is deploy/firewall/user-firewall.sh, which `make test` installs for the
test network; the runtime puts that network on the bridge the rules name.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager

import pytest

from saas_panel.config import get_settings
from saas_panel.runtime.base import OWNER_LABEL
from saas_panel.runtime.docker_runtime import BRIDGE_NAME_OPTION, DockerRuntime, bridge_name
from saas_panel.services import provisioning
from tests.integration.conftest import TEST_NETWORK
from tests.integration.test_provisioning import wait_http_ok
from tests.prerequisites import skip_outside_ci

pytestmark = pytest.mark.engine

FIREWALL = "deploy/firewall/user-firewall.sh"
USER_IMAGE = get_settings().user_image
# The panel's backend, PostgreSQL and Redis: their default ports and the ones `make test` uses.
PANEL_PORTS = (8000, 5432, 6379, 55432, 56379)
# A stand-in for a cloud's metadata service and for a host on the private LAN, each one hop away.
METADATA, LAN_HOST, VETH_HOST_END = "169.254.169.254", "10.255.255.254", "169.254.169.253"
PROBE = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3).close()
    print("open")
except OSError as exc:
    print("closed", exc)
"""


def _open_from_host(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=3).close()
        return True
    except OSError:
        return False


def _open_from(container, host: str, port: int) -> bool:
    result = container.exec_run(["python3", "-c", PROBE, host, str(port)])
    return result.output.decode().strip() == "open"


def _sh(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)


@contextmanager
def _routed_listener():
    """A TCP listener on port 80 of METADATA and LAN_HOST, in a network namespace that the host
    routes to over a veth pair: reached through the host's FORWARD path, like a real metadata service."""
    tag = uuid.uuid4().hex[:8]
    namespace, veth = f"saas-test-{tag}", f"sv{tag}"
    _sh("ip", "netns", "add", namespace)
    listener = None
    try:
        _sh("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", namespace)
        _sh("ip", "addr", "add", VETH_HOST_END, "peer", METADATA, "dev", veth)
        _sh("ip", "link", "set", veth, "up")
        inside = ("ip", "netns", "exec", namespace, "ip")
        _sh(*inside, "addr", "add", METADATA, "peer", VETH_HOST_END, "dev", "eth0")
        _sh(*inside, "addr", "add", f"{LAN_HOST}/32", "dev", "eth0")
        _sh(*inside, "link", "set", "eth0", "up")
        _sh(*inside, "link", "set", "lo", "up")
        _sh(*inside, "route", "add", "default", "via", VETH_HOST_END)
        _sh("ip", "route", "add", f"{LAN_HOST}/32", "via", METADATA, "dev", veth)
        server = "import socket\ns = socket.create_server(('0.0.0.0', 80))\nwhile True: s.accept()[0].close()"
        listener = subprocess.Popen(["ip", "netns", "exec", namespace, sys.executable, "-c", server])
        for _ in range(100):
            if _open_from_host(METADATA, 80):
                break
            time.sleep(0.05)
        yield
    finally:
        if listener is not None:
            listener.kill()
            listener.wait()
        subprocess.run(["ip", "route", "del", f"{LAN_HOST}/32"], capture_output=True)
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)  # also removes the veth pair


@pytest.fixture
def firewalled():
    """Root, and the firewall installed for the test network (as `make test` does)."""
    if os.geteuid() != 0 or not shutil.which("iptables"):
        skip_outside_ci("needs root and iptables to check the user firewall")
    check = ["iptables", "-w", "-C", "INPUT", "-i", bridge_name(TEST_NETWORK), "-j", "SAAS-USERS-INPUT"]
    if subprocess.run(check, capture_output=True).returncode != 0:
        skip_outside_ci(f"the user firewall is not installed: run `sudo bash {FIREWALL} {TEST_NETWORK}`")


@pytest.fixture
def user_container(engine, make_user, docker_client):
    make_user("mallory")
    view = provisioning.provision("mallory")
    [container] = docker_client.containers.list(filters={"label": f"{OWNER_LABEL}=mallory"})
    return view, container


def test_logs_and_open_files_are_capped_from_settings(engine, make_user, docker_client, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_LOG_MAX_SIZE", "5m")
    monkeypatch.setenv("SAAS_PANEL_LOG_MAX_FILES", "2")
    monkeypatch.setenv("SAAS_PANEL_NOFILE_LIMIT", "512")
    make_user("lena")
    provisioning.provision("lena")
    [container] = docker_client.containers.list(filters={"label": f"{OWNER_LABEL}=lena"})

    host = container.attrs["HostConfig"]
    assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-size": "5m", "max-file": "2"}}
    assert host["Ulimits"] == [{"Name": "nofile", "Soft": 512, "Hard": 512}]
    limits = container.exec_run(["python3", "-c", "import resource; print(resource.getrlimit(resource.RLIMIT_NOFILE))"])
    assert limits.output.decode().strip() == "(512, 512)"


def test_user_network_is_on_the_firewalled_bridge(user_container, docker_client):
    network = docker_client.networks.get(TEST_NETWORK)
    assert network.attrs["Options"][BRIDGE_NAME_OPTION] == bridge_name(TEST_NETWORK)
    assert os.path.exists(f"/sys/class/net/{bridge_name(TEST_NETWORK)}")  # the engine took the name


@pytest.fixture
def old_network(docker_client):
    """A user network as the panel made it before it named its bridge."""
    name = f"saas-panel-old-{uuid.uuid4().hex[:6]}"
    docker_client.networks.create(name, driver="bridge")
    yield name
    for container in docker_client.containers.list(all=True, filters={"network": name}):
        container.remove(force=True)
    for network in docker_client.networks.list(names=[name]):
        network.remove()


def _options(docker_client, name: str) -> dict:
    [network] = [n for n in docker_client.networks.list(names=[name]) if n.name == name]
    return network.attrs["Options"]


def test_an_empty_network_without_the_bridge_name_is_replaced(old_network, docker_client):
    DockerRuntime(client=docker_client)._ensure_network(old_network)
    assert _options(docker_client, old_network)[BRIDGE_NAME_OPTION] == bridge_name(old_network)


def test_a_network_in_use_is_kept_with_a_warning(old_network, docker_client, caplog):
    docker_client.containers.run(USER_IMAGE, detach=True, network=old_network)
    DockerRuntime(client=docker_client)._ensure_network(old_network)
    assert BRIDGE_NAME_OPTION not in _options(docker_client, old_network)
    assert "the user firewall does not cover it" in caplog.text


def test_user_container_cannot_reach_the_host(firewalled, user_container):
    view, container = user_container
    gateway = container.attrs["NetworkSettings"]["Networks"][TEST_NETWORK]["Gateway"]
    with socket.create_server(("0.0.0.0", 0)) as stand_in:  # the panel's backend, database or Redis
        ports = [stand_in.getsockname()[1], *PANEL_PORTS]
        listening = [port for port in ports if _open_from_host(gateway, port)]
        assert ports[0] in listening, "the stand-in listener is not up"
        assert [port for port in listening if _open_from(container, gateway, port)] == []
    assert b"ok" in wait_http_ok(view.host_port)  # the host still reaches the container, and hears back


def test_user_container_cannot_reach_metadata_or_private_addresses(firewalled, user_container):
    _view, container = user_container
    if not shutil.which("ip"):
        skip_outside_ci("needs iproute2 (`ip`) to stand in for a metadata service")
    with _routed_listener():
        for address in (METADATA, LAN_HOST):
            assert _open_from_host(address, 80), f"the stand-in on {address} is not up"
            assert not _open_from(container, address, 80), f"a user container reached {address}"
