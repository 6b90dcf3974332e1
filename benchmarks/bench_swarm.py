"""Swarm: provisioning on a 3-node Swarm, ours against a raw `docker service create`; a collector sweep of 30 apps across the nodes against `docker stats --no-stream` on each node.

Setup (not timed): a fleet of NODES Docker-in-docker engines in one Swarm (devtools/swarm.py: a
manager and two workers, the user image loaded into each), the panel's settings pointing at it
(SAAS_PANEL_RUNTIME=swarm, DOCKER_HOST = the manager, each node's engine at tcp://{address}:2375,
no storage quota); then bench_provision's set-up: a scratch DB with the users, a per-run name
prefix, one warm-up per side.

Provision lines (`"bench": "swarm"`, the Bench of bench_provision with a Swarm's two sides), each
side timed from the call until GET /health answers 200 at the app's node address and host-mode
published port (the host is the fleet network's gateway, which the nodes admit as the edge):
- ours: `provisioning.provision` (DB row; placement on the least loaded worker; the user's volume
  created on that node; a service pinned there, its task polled every 0.2 s until it runs; DB
  update; activity row), then one inspect for the node's address.
- raw: `create_service` through the SDK with the task ours would send for the same spec
  (`swarm_runtime.task_template`: every hardening and limit, a volume mount the node creates
  itself, the image's health check off as in ours), a host-mode published port, and no pin:
  Swarm's scheduler places it on a worker (where ours places apps too). Its tasks are polled
  every RAW_POLL_S until one runs, for the node and the port.
- n=1: REPEAT samples per side, interleaved ours/raw, median seconds per app.
- n=20: wall-clock seconds for the whole batch, as in bench_provision: ours 20 concurrent
  `provision()` calls (the service caps engine work at max_concurrent_provisioning), raw 8
  threads creating services and one poller per service; BATCH_ROUNDS batches per side, the order
  alternating, every service, container and volume of the run removed between batches (on a
  node that fell back to vfs storage each container is a full copy of the image, ~250 MB: one
  round is enough there); the median batch.
errors, raw_errors and dup_ports as in bench_provision (a duplicate is the same node and port).

Sweep line (`"bench": "swarm sweep"`): CONTAINERS running apps made by `SwarmRuntime.create`
from 8 threads (spread over the workers), one warm-up sweep.
- `ours_s`: median of REPEAT_SWEEP `Collector(get_runtime()).sweep(store=False)` (one service
  list and one task list on the manager, the nodes list, cgroup counters of every app's
  container: the nodes share this host's cgroup tree);
- `with_db_s`: the same with `store=True` on a scratch DB with a user and a container row per app
  (reconcile, one metrics row per app, the nodes recorded);
- `docker_stats_cli_s`: median of CLI_REPEAT rounds of `docker -H <node> stats --no-stream` on
  every node at once (wall clock until the slowest node answers);
- `node_idle_mb`: each node's own memory before any app (the working set of its container's
  cgroup, as the collector counts a container: its engine, containerd and their page cache).

Leaving the fleet's block (also on an error or Ctrl-C) removes its nodes, and with them every
service, container and volume made here.
"""

from __future__ import annotations

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from benchmarks.bench_provision import BENCH_LABEL, RAW_THREADS, Bench, BenchError, _bench_env, wait_ready
from benchmarks.common import environment, median_seconds, scratch_database
from benchmarks.fleet import Fleet as AppFleet
from benchmarks.fleet import WORKERS, _run_one, remove_prefix

NODES = 3
REPEAT = 3
BATCH = 20
BATCH_ROUNDS = 3
CONTAINERS = 30
REPEAT_SWEEP = 10
CLI_REPEAT = 3
RAW_POLL_S = 0.2  # as the runtime's own polling of a new service's task
CLEAR_TIMEOUT_S = 120
MB = 1024 * 1024


def swarm_settings(fleet) -> dict[str, str]:
    """The panel's settings for the Swarm `fleet` (devtools.swarm.Fleet)."""
    return {
        "SAAS_PANEL_RUNTIME": "swarm",
        "DOCKER_HOST": fleet.manager_url,
        "SAAS_PANEL_SWARM_NODE_API": "tcp://{address}:2375",
        "SAAS_PANEL_STORAGE_QUOTA": "none",
    }


def node_client(address: str):
    import docker

    return docker.DockerClient(base_url=f"tcp://{address}:2375", timeout=60)


class SwarmBench(Bench):
    name = "swarm"

    def __init__(self) -> None:
        import docker

        from saas_panel.runtime import get_runtime

        super().__init__()
        self.client.close()
        self.client = docker.from_env(timeout=60, max_pool_size=BATCH + RAW_THREADS + 4)
        self.addresses = {node.id: node.address for node in get_runtime().nodes()}

    def ours(self, username: str) -> tuple[str, int]:
        from saas_panel.runtime import get_runtime
        from saas_panel.services import provisioning

        view = provisioning.provision(username, actor=username)
        address = get_runtime().inspect(view.engine_id).address
        wait_ready(view.host_port, self.stop, host=address)
        return address, view.host_port

    def raw_create(self) -> str:
        """A service of the task ours sends for the same spec, placed by Swarm; returns its id."""
        from saas_panel.runtime.base import VolumeSpec
        from saas_panel.runtime.swarm_runtime import task_template
        from saas_panel.services.provisioning import container_spec

        settings = self._settings()
        with self._lock:
            name = f"{self.prefix}raw-{self._raw_seq:03d}"
            self._raw_seq += 1
        data = VolumeSpec(name=f"{name}-data", owner=name)
        spec = container_spec(name, name, settings.user_image, settings.default_mem_limit_mb, settings.default_cpu_limit, data=data)
        template = task_template(spec, node_id="")
        template["Placement"] = {"Constraints": ["node.role==worker"]}  # the nodes ours places apps on
        # Not the panel's labels: its collector must not count these as its apps.
        template["ContainerSpec"].update(Labels={BENCH_LABEL: self.tag}, Healthcheck={"Test": ["NONE"]})
        return self.client.api.create_service(
            template, name=name, labels={BENCH_LABEL: self.tag}, mode={"Replicated": {"Replicas": 1}},
            endpoint_spec={"Ports": [{"Protocol": "tcp", "TargetPort": spec.app_port, "PublishMode": "host"}]},
        )["ID"]

    def raw_ready(self, service_id: str) -> tuple[str, int]:
        from saas_panel.runtime.swarm_runtime import CONVERGE_TIMEOUT_S

        deadline = time.monotonic() + CONVERGE_TIMEOUT_S
        while not self.stop.is_set():
            for task in self.client.api.tasks(filters={"service": service_id}):
                status = task.get("Status") or {}
                if status.get("State") in ("failed", "rejected"):
                    raise BenchError(f"service {service_id[:12]}: task {status['State']}: {status.get('Err')}")
                if status.get("State") == "running":
                    port = next(p["PublishedPort"] for p in status["PortStatus"]["Ports"])
                    address = self.addresses[task["NodeID"]]
                    wait_ready(port, self.stop, host=address)
                    return address, port
            if time.monotonic() > deadline:
                raise BenchError(f"service {service_id[:12]}: no running task within {CONVERGE_TIMEOUT_S} s")
            time.sleep(RAW_POLL_S)
        raise BenchError("stopped")

    def clear(self) -> None:
        """Every service of the run, then on each node its containers and volumes once they are gone."""
        from devtools.swarm import _in_parallel

        for service in self.client.api.services(filters={"name": self.prefix}):
            if service["Spec"]["Name"].startswith(self.prefix):
                self.client.api.remove_service(service["ID"])

        def on_node(address: str) -> None:
            client = node_client(address)
            deadline = time.monotonic() + CLEAR_TIMEOUT_S
            try:
                # The node removes a removed service's containers itself (on vfs storage, seconds each);
                # their volumes can go only then.
                while client.api.containers(all=True, filters={"name": self.prefix}) and time.monotonic() < deadline:
                    time.sleep(0.5)
                remove_prefix(client, self.prefix)
            finally:
                client.close()

        _in_parallel(on_node, self.addresses.values())

    @staticmethod
    def _line(n: int, ours: float, raw: float, errors: int, raw_errors: int, ports: list) -> dict:
        line = Bench._line(n, ours, raw, errors, raw_errors, ports)
        return {**line, "bench": "swarm", "nodes": NODES}

    # --- the sweep ---

    def sweep_line(self, node_idle_mb: dict[str, float]) -> dict:
        from devtools.swarm import _in_parallel
        from saas_panel.config import get_settings
        from saas_panel.db import get_engine
        from saas_panel.runtime import get_runtime
        from saas_panel.services.monitor import Collector

        runtime = get_runtime()
        names = [f"{self.prefix}sweep-{index:03d}" for index in range(CONTAINERS)]
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            ids = list(pool.map(lambda name: _run_one(runtime, name, get_settings().user_network), names))
        collector = Collector(runtime)
        swept = len(collector.sweep(store=False).containers)
        ours = median_seconds(lambda: collector.sweep(store=False), REPEAT_SWEEP)

        def stats(address: str) -> None:
            subprocess.run(["docker", "-H", f"tcp://{address}:2375", "stats", "--no-stream"], check=True, capture_output=True)

        cli = median_seconds(lambda: _in_parallel(stats, self.addresses.values()), CLI_REPEAT)
        with scratch_database():
            try:
                AppFleet(prefix=self.prefix, network="", image=get_settings().user_image, names=names, ids=ids).add_to_database()
                stored = Collector(runtime)
                stored.sweep(store=True)
                with_db = median_seconds(lambda: stored.sweep(store=True), REPEAT_SWEEP)
            finally:
                get_engine().dispose()
        return {
            "bench": "swarm sweep",
            "nodes": NODES,
            "containers": swept,
            "fleet": len(ids),
            "ours_s": round(ours, 4),
            "with_db_s": round(with_db, 4),
            "docker_stats_cli_s": round(cli, 3),
            "ratio": round(cli / ours, 1),
            "node_idle_mb": node_idle_mb,
        }


def node_idle_mb(fleet) -> dict[str, float]:
    """Each node container's working set, read from its cgroup on this host."""
    from saas_panel.runtime.cgroups import CgroupReader

    reader = CgroupReader()
    sizes = {}
    for node in fleet.nodes:
        container_id = subprocess.run(["docker", "inspect", "-f", "{{.Id}}", node.name], check=True,
                                      capture_output=True, text=True).stdout.strip()
        sample = reader.read(container_id)
        sizes[node.name.rpartition("-")[2]] = round(sample.mem_bytes / MB, 1) if sample else None
    return sizes


def run():
    from devtools.swarm import Fleet
    from saas_panel.db import get_engine
    from saas_panel.runtime import reset_runtime

    results: list[dict] = []
    with Fleet(NODES) as fleet:
        idle = node_idle_mb(fleet)  # before DOCKER_HOST names the manager: the nodes are this host's containers
        with environment(swarm_settings(fleet)):
            reset_runtime()
            bench = SwarmBench()
            try:
                with _bench_env(bench.prefix, bench.network), scratch_database():
                    try:
                        warm_user, *single_users = bench.make_users(1 + REPEAT)
                        batch_users = [bench.make_users(BATCH) for _ in range(BATCH_ROUNDS)]
                        bench.ours(warm_user)
                        bench.raw()
                        bench.clear()

                        results.append(bench.single(single_users))
                        bench.clear()
                        results.append(bench.batches(batch_users))
                    finally:
                        get_engine().dispose()
                results.append(bench.sweep_line(idle))
            finally:
                reset_runtime()  # leaving the block removes the fleet, with every service, container and volume on it
    yield from results
