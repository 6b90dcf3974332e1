"""A Docker Swarm on this host: Docker-in-docker nodes, for the Swarm runtime's tests and benchmarks.

    with Fleet(3) as fleet:        # node 0 is the manager, the others join as workers
        fleet.manager_url          # tcp://198.18.x.10:2375: the manager's engine
        fleet.nodes                # [Node(name, address), ...]: name is also the node's hostname
        fleet.node_url(name)       # that node's own engine
        fleet.stop_node(name)      # the node is lost...
        fleet.start_node(name)     # ...and back: its engine is up and it is ready in the swarm again
        fleet.restart_node(name)   # `docker restart`: the node's engine stops and starts again

    python -m devtools.swarm up 3  # leaves the fleet running and prints its nodes
    python -m devtools.swarm down  # removes every fleet made here (or: down ID, the one fleet)

Each node is a container of saas-panel/swarm-node:latest (scripts/swarm_node_image.sh, deploy/swarm-node)
on a bridge network of its own, at a fixed address (a restarted manager keeps its address) in a free
198.18.x.0/24 (set aside for benchmarking networks: the engine never picks it by itself). The host is
the network's gateway and the nodes admit only it to the users' apps (SAAS_PANEL_EDGE_SOURCE): the edge
and the tests run on the host. Without a registry, the images are saved once here and loaded into
every node (`images`, default: the user image from the settings). Nodes start, and images load, in
parallel. Each inner engine keeps its state in an anonymous volume, removed with the node.
"""

from __future__ import annotations

import argparse
import ipaddress
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import docker

from saas_panel.config import get_settings

NODE_IMAGE = "saas-panel/swarm-node:latest"
FLEET_LABEL = "saas-panel.swarm-fleet"
ENGINE_PORT = 2375
# --privileged is refused where the capability bounding set lacks CAP_SYS_RESOURCE: everything else.
NODE_OPTIONS = (
    "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
    "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
    "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--cgroupns", "host",
)
READY_TIMEOUT_S = 120
FIRST_NODE_HOST = 10  # node i is at .10 + i


class Node(NamedTuple):
    name: str
    address: str


def _docker(*args: str, **kwargs) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:3])}... failed: {result.stderr.strip()}")
    return result.stdout.strip()


def _wait(what: str, ready: Callable[[], bool], timeout: float = READY_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not ready within {timeout:.0f} s")
        time.sleep(0.2)


def _in_parallel(function: Callable, items: Iterable) -> list:
    items = list(items)
    with ThreadPoolExecutor(max_workers=max(1, len(items))) as pool:
        return list(pool.map(function, items))


class Fleet:
    """N Docker-in-docker engines in one swarm: node 0 the manager, the others workers."""

    def __init__(self, size: int = 3, images: Sequence[str] | None = None, node_image: str = NODE_IMAGE):
        if size < 1:
            raise ValueError("a fleet has at least one node")
        self.id = uuid.uuid4().hex[:6]
        self.network = f"saas-swarm-{self.id}"
        self.images = list(images) if images is not None else [get_settings().user_image]
        self.node_image = node_image
        self.size = size
        self.nodes: list[Node] = []
        self.gateway = ""
        self.bring_up_s = 0.0

    @property
    def manager_url(self) -> str:
        return self.node_url(self.nodes[0].name)

    def node_url(self, name: str) -> str:
        return f"tcp://{self._address(name)}:{ENGINE_PORT}"

    def engine(self, name: str) -> docker.DockerClient:
        return docker.DockerClient(base_url=self.node_url(name), timeout=60)

    def _address(self, name: str) -> str:
        return next(node.address for node in self.nodes if node.name == name)

    def __enter__(self) -> Fleet:
        self.up()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def up(self) -> None:
        """Start the fleet; on any failure, remove what was made of it."""
        started = time.monotonic()
        try:
            self._up()
        except BaseException:
            self.close()
            raise
        self.bring_up_s = time.monotonic() - started

    def _up(self) -> None:
        subnet = self._create_network()
        self.gateway = str(subnet.network_address + 1)
        self.nodes = [Node(f"{self.network}-node{i}", str(subnet.network_address + FIRST_NODE_HOST + i))
                      for i in range(self.size)]
        with tempfile.NamedTemporaryFile(suffix=".tar") as images, ThreadPoolExecutor(1) as saver:
            saved = saver.submit(_docker, "save", "-o", images.name, *self.images)  # while the nodes start
            _in_parallel(self._run_node, self.nodes)
            manager = self.engine(self.nodes[0].name)
            manager.swarm.init(advertise_addr=self.nodes[0].address)
            token = manager.swarm.attrs["JoinTokens"]["Worker"]
            saved.result()
            _in_parallel(lambda node: self._join_and_load(node, token, images.name), self.nodes)
        self._wait_swarm_ready()

    def _create_network(self) -> ipaddress.IPv4Network:
        """A bridge network on the first 198.18.x.0/24 no other network overlaps."""
        for third in range(256):
            subnet = ipaddress.ip_network(f"198.18.{third}.0/24")
            if any(subnet.overlaps(taken) for taken in _taken_subnets()):
                continue
            try:
                _docker("network", "create", "--driver", "bridge", "--subnet", str(subnet),
                        "--label", f"{FLEET_LABEL}={self.id}", self.network)
            except RuntimeError as exc:
                if "overlap" in str(exc):  # taken meanwhile
                    continue
                raise
            return subnet
        raise RuntimeError("no free /24 left in 198.18.0.0/16")

    def _run_node(self, node: Node) -> None:
        _docker("run", "-d", "--name", node.name, "--hostname", node.name, "--label", f"{FLEET_LABEL}={self.id}",
                "--network", self.network, "--ip", node.address, *NODE_OPTIONS,
                "-e", f"SAAS_PANEL_EDGE_SOURCE={self.gateway}", self.node_image)
        self._wait_engine(node)

    def _wait_engine(self, node: Node) -> None:
        def answers() -> bool:
            try:
                return self.engine(node.name).ping()
            except docker.errors.DockerException:
                if _docker("inspect", "-f", "{{.State.Running}}", node.name) != "true":
                    raise RuntimeError(f"{node.name} exited: {_docker('logs', '--tail', '20', node.name)}") from None
                return False

        _wait(f"the engine of {node.name}", answers)

    def _join_and_load(self, node: Node, token: str, images: str) -> None:
        if node != self.nodes[0]:
            self.engine(node.name).swarm.join([f"{self.nodes[0].address}:2377"], token, advertise_addr=node.address)
        with open(images, "rb") as archive:
            _docker("exec", "-i", node.name, "docker", "load", "-q", stdin=archive)

    def _wait_swarm_ready(self) -> None:
        manager = self.engine(self.nodes[0].name)
        names = {node.name for node in self.nodes}

        def all_ready() -> bool:
            try:
                ready = {n.attrs["Description"]["Hostname"] for n in manager.nodes.list()
                         if n.attrs["Status"]["State"] == "ready"}
            except docker.errors.DockerException:  # a restarted manager answers before its swarm is back
                return False
            return names <= ready

        _wait("every node ready in the swarm", all_ready)

    def stop_node(self, name: str) -> None:
        """The node is lost: its container is killed (the manager sees it down some 10 s later)."""
        _docker("kill", name)

    def start_node(self, name: str) -> None:
        """The node comes back: its engine restarts and it rejoins the swarm on its own."""
        _docker("start", name)
        self._wait_back(name)

    def restart_node(self, name: str) -> None:
        """`docker restart` of the node: its engine stops its containers and starts again."""
        _docker("restart", name)
        self._wait_back(name)

    def _wait_back(self, name: str) -> None:
        self._wait_engine(Node(name, self._address(name)))
        _wait(f"{name} back in the swarm", lambda: self.engine(name).info()["Swarm"]["LocalNodeState"] == "active")
        self._wait_swarm_ready()

    def close(self) -> None:
        remove_fleets(self.id)


def _taken_subnets() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    ids = _docker("network", "ls", "-q").split()
    configs = _docker("network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}} {{end}}", *ids).split()
    return [ipaddress.ip_network(subnet, strict=False) for subnet in configs]


def remove_fleets(fleet_id: str = "") -> None:
    """Remove the nodes (with their inner engines' volumes) and the network of one fleet, or of all."""
    label = f"{FLEET_LABEL}={fleet_id}" if fleet_id else FLEET_LABEL
    nodes = _docker("ps", "-aq", "--filter", f"label={label}").split()

    def remove(node: str) -> None:
        # An engine stopping stops its containers and removes their cgroups: killed, it would leave them behind.
        _docker("stop", "-t", "30", node)
        _docker("rm", "-f", "-v", node)

    _in_parallel(remove, nodes)
    for network in _docker("network", "ls", "-q", "--filter", f"label={label}").split():
        _docker("network", "rm", network)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.swarm", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start a fleet and leave it running")
    up.add_argument("size", type=int, nargs="?", default=3, help="number of nodes (default 3)")
    up.add_argument("--image", action="append", dest="images", help="image to load into each node (repeatable)")
    down = commands.add_parser("down", help="remove a fleet, or every fleet")
    down.add_argument("fleet", nargs="?", default="", help="the fleet's id (default: every fleet)")
    args = parser.parse_args(argv)
    if args.command == "down":
        remove_fleets(args.fleet)
        return 0
    fleet = Fleet(args.size, args.images)
    fleet.up()
    print(f"manager: {fleet.manager_url} (DOCKER_HOST)")
    for node in fleet.nodes:
        print(f"{node.name} {node.address}")
    print(f"up in {fleet.bring_up_s:.1f} s; remove with: python -m devtools.swarm down {fleet.id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
