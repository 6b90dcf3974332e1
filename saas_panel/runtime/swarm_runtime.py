"""Docker Swarm: each user's app is a service of one replica (0 while stopped), pinned to one node.

The panel talks to a manager (DOCKER_HOST) for services, tasks and nodes, and to each node's
own engine (SAAS_PANEL_SWARM_NODE_API) for what only a node knows: its containers' events,
volumes, disk usage, images and files. A user's volume is a local volume on the node the service
is pinned to (`node.id==...`): the data stays where it was written, and an app whose node is lost
waits for it (its files are on it) unless an admin removes the app.

The edge reaches an app at its node's address on a host-mode published port (no routing mesh);
each node's firewall admits only the edge there (deploy/swarm-node/entrypoint.sh).

What Swarm cannot express (engine API 1.41), and what stands in for it:
- no-new-privileges: the nodes' engines run with `--no-new-privileges` (the default for every container);
- memory + swap = memory: nodes run without swap;
- noexec/nosuid/nodev on the /tmp tmpfs: a size-limited tmpfs only (the user is nobody, with no capability);
- a size-limited file system per volume: usage is measured and an app over its quota is stopped.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone

import docker
import requests
from docker.errors import APIError, DockerException, NotFound

from saas_panel.config import get_settings
from saas_panel.errors import ContainerExists, ContainerNotFound, EngineError, EngineUnavailable, QuotaBelowUsage
from saas_panel.runtime.base import (
    MANAGED_LABEL,
    OWNER_LABEL,
    ContainerEvent,
    ContainerInfo,
    ContainerRuntime,
    ContainerSpec,
    EventStream,
    NodeInfo,
    UsageSample,
    VolumeSpec,
)
from saas_panel.runtime.cgroups import CgroupReader
from saas_panel.runtime.docker_runtime import (
    NOBODY,
    EVENT_STATES,
    _check_owner,
    _parse_time,
    _translate_errors,
    engine_client,
    has_image,
    stats_sample,
    volume_sizes,
)

log = logging.getLogger(__name__)

SERVICE_NAME_LABEL = "com.docker.swarm.service.name"
SERVICE_ID_LABEL = "com.docker.swarm.service.id"
NODE_LABEL = "saas-panel.node"  # the node id a service is pinned to (where its volume lives)
CONVERGE_TIMEOUT_S = 90  # a node on vfs storage (no overlay mount) copies the whole image for every new container
CONVERGE_POLL_S = 0.2
NODES_CHECK_S = 5.0  # the event stream reopens when the set of reachable nodes changed
TMPFS_BYTES = 16 * 1024 * 1024
# A container's state as `docker ps` words, from its task's state.
TASK_STATES = {
    "running": "running",
    "new": "created", "pending": "created", "assigned": "created", "accepted": "created",
    "preparing": "created", "ready": "created", "starting": "created",
}
NODE_EVENT_STATES = {**EVENT_STATES, "destroy": None}  # a task's old container going says nothing of the service


@dataclass(frozen=True)
class _Task:
    service_id: str
    container_id: str | None
    node_id: str
    state: str
    desired: str
    published_port: int | None
    started_at: datetime | None
    created_at: datetime


def _task(raw: dict) -> _Task:
    status = raw.get("Status") or {}
    ports = (status.get("PortStatus") or {}).get("Ports") or []
    return _Task(
        service_id=raw["ServiceID"],
        container_id=(status.get("ContainerStatus") or {}).get("ContainerID"),
        node_id=raw.get("NodeID", ""),
        state=status.get("State", ""),
        desired=raw.get("DesiredState", ""),
        published_port=next((p["PublishedPort"] for p in ports if p.get("PublishedPort")), None),
        started_at=_parse_time(status.get("Timestamp")),
        created_at=_parse_time(raw.get("CreatedAt")) or datetime.min.replace(tzinfo=timezone.utc),
    )


def _node(raw: dict) -> NodeInfo:
    status, spec = raw.get("Status") or {}, raw.get("Spec") or {}
    address = status.get("Addr") or ""
    if address in ("", "0.0.0.0"):  # some managers report no address of their own
        address = (raw.get("ManagerStatus") or {}).get("Addr", "").rpartition(":")[0]
    return NodeInfo(
        id=raw["ID"],
        hostname=(raw.get("Description") or {}).get("Hostname", raw["ID"][:12]),
        address=address,
        role=spec.get("Role", "worker"),
        ready=status.get("State") == "ready",
        available=spec.get("Availability") == "active",
    )


def _current_task(tasks: list[_Task]) -> _Task | None:
    """The task that is (or will be) the app now: the newest one meant to run, else the newest."""
    wanted = [t for t in tasks if t.desired == "running"]
    return (wanted or tasks or [None])[-1]


def task_template(spec: ContainerSpec, node_id: str) -> dict:
    """The service's task: every hardening of a user app that Swarm can express is written here."""
    mounts = [{"Type": "tmpfs", "Target": "/tmp", "TmpfsOptions": {"SizeBytes": TMPFS_BYTES, "Mode": 0o1777}}]
    if spec.data_volume is not None:
        mounts.append({"Type": "volume", "Source": spec.data_volume.name, "Target": spec.data_volume.path,
                       "VolumeOptions": {"Labels": spec.data_volume.labels}})
    return {
        "ContainerSpec": {
            "Image": spec.image,
            "Hostname": spec.name[:63],
            "Labels": spec.labels,
            "Env": [f"{key}={value}" for key, value in spec.env.items()],
            "User": NOBODY,
            "Init": True,
            "ReadOnly": True,
            "Mounts": mounts,
            "CapabilityDrop": ["ALL"],
            "Ulimits": [{"Name": "nofile", "Soft": spec.nofile_limit, "Hard": spec.nofile_limit}],
            # Swarm would hold a task "starting" until the image's first health check (30 s); the
            # panel waits for the app port itself where it matters, as on one host.
            "Healthcheck": {"Test": ["NONE"]},
        },
        "Resources": {"Limits": {"NanoCPUs": int(spec.cpu_limit * 1e9), "MemoryBytes": spec.mem_limit_mb * 1024 * 1024,
                                 "Pids": spec.pids_limit}},
        "RestartPolicy": {"Condition": "on-failure", "MaxAttempts": 5},
        "Placement": {"Constraints": [f"node.id=={node_id}"]},
        "LogDriver": {"Name": "json-file", "Options": {"max-size": spec.log_max_size, "max-file": str(spec.log_max_files)}},
    }


class _MergedEvents(EventStream):
    """The container events of every reachable node (and service removals from the manager) as one
    stream, which ends when a node's stream breaks or the reachable nodes change: the collector then
    opens a new one on the nodes there are."""

    def __init__(self, streams: list, nodes_changed):
        self._streams = streams
        self._nodes_changed = nodes_changed
        self._queue: queue.Queue = queue.Queue()
        self._closed = threading.Event()
        for stream in streams:
            threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream) -> None:
        try:
            for raw in stream:
                self._queue.put(raw)
        except Exception:  # noqa: BLE001 - a node gone: the whole stream ends and is reopened
            pass
        finally:
            self._queue.put(None)

    def __iter__(self) -> Iterator[ContainerEvent]:
        next_check = time.monotonic() + NODES_CHECK_S
        while not self._closed.is_set():
            try:
                raw = self._queue.get(timeout=1.0)
            except queue.Empty:
                raw = False
            if raw is None:
                return
            if raw:
                event = _event(raw)
                if event is not None:
                    yield event
            if time.monotonic() >= next_check:
                next_check = time.monotonic() + NODES_CHECK_S
                if self._nodes_changed():
                    return

    def close(self) -> None:
        self._closed.set()
        for stream in self._streams:
            try:
                stream.close()
            except Exception:  # noqa: BLE001 - closing a broken stream must not raise
                pass


def _event(raw: dict) -> ContainerEvent | None:
    actor = raw.get("Actor") or {}
    attributes = actor.get("Attributes") or {}
    action = (raw.get("Action") or "").split(":")[0]
    if raw.get("Type") == "service":
        return ContainerEvent(container_id=actor.get("ID", ""), name=attributes.get("name", ""), action=action,
                              owner=None, state="missing")
    if SERVICE_NAME_LABEL not in attributes:
        return None
    return ContainerEvent(container_id=attributes.get(SERVICE_ID_LABEL, ""), name=attributes[SERVICE_NAME_LABEL], action=action,
                          owner=attributes.get(OWNER_LABEL), state=NODE_EVENT_STATES.get(action))


class SwarmRuntime(ContainerRuntime):
    def __init__(self, client: docker.DockerClient | None = None, cgroups: CgroupReader | None = None):
        self._client = client
        self._cgroups = cgroups or CgroupReader()
        self._node_clients: dict[str, docker.DockerClient] = {}
        self._clients_lock = threading.Lock()
        self._placement_lock = threading.Lock()
        self._containers: dict[str, tuple[str, str]] = {}  # service id -> (its container id, node id), from the last list

    # -- the manager and the nodes

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = engine_client()
        return self._client

    def _node_client(self, node: NodeInfo) -> docker.DockerClient:
        with self._clients_lock:
            client = self._node_clients.get(node.id)
            if client is None:
                client = engine_client(get_settings().swarm_node_api.format(address=node.address))
                self._node_clients[node.id] = client
            return client

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except (DockerException, requests.exceptions.RequestException, EngineUnavailable):
            return False

    @_translate_errors
    def nodes(self) -> list[NodeInfo]:
        return [_node(raw) for raw in self.client.api.nodes()]

    def _nodes_by_id(self) -> dict[str, NodeInfo]:
        return {node.id: node for node in self.nodes()}

    def _ready_nodes(self) -> list[NodeInfo]:
        return [node for node in self.nodes() if node.ready]

    def _place(self, volume: VolumeSpec | None, avoid: str | None = None) -> NodeInfo:
        """The node for a new service: the one that holds the owner's volume, else the least loaded worker."""
        ready = self._ready_nodes()
        candidates = [node for node in ready if node.available and node.id != avoid]
        if volume is not None:
            for node in ready:
                if self._volume_on(node, volume.name):
                    if not node.available:
                        raise EngineError(f"{volume.owner}'s files are on {node.hostname}, which takes no new apps (drained).")
                    return node
        if not candidates:
            raise EngineError("No Swarm node is ready to take an app.")
        load = {node.id: 0 for node in candidates}
        for service in self.client.api.services(filters={"label": f"{MANAGED_LABEL}=true"}):
            pinned = (service["Spec"].get("Labels") or {}).get(NODE_LABEL)
            if pinned in load:
                load[pinned] += 1
        # Workers first: a manager keeps its capacity for the panel and the Swarm's own work.
        return min(candidates, key=lambda node: (node.role == "manager", load[node.id], node.hostname))

    def _volume_on(self, node: NodeInfo, name: str) -> bool:
        try:
            self._node_client(node).api.inspect_volume(name)
            return True
        except NotFound:
            return False

    # -- services

    def _tasks(self, service_id: str | None = None) -> list[_Task]:
        filters = {"service": service_id} if service_id else {}
        raws = self.client.api.tasks(filters=filters)
        return sorted((_task(raw) for raw in raws), key=lambda task: task.created_at)

    def _info(self, service: dict, tasks: list[_Task], nodes: dict[str, NodeInfo]) -> ContainerInfo:
        spec = service["Spec"]
        template = spec.get("TaskTemplate") or {}
        container_spec = template.get("ContainerSpec") or {}
        limits = (template.get("Resources") or {}).get("Limits") or {}
        replicas = ((spec.get("Mode") or {}).get("Replicated") or {}).get("Replicas", 0)
        task = _current_task(tasks)
        running = replicas > 0 and task is not None and task.state == "running"
        state = "running" if running else (TASK_STATES.get(task.state, "exited") if replicas > 0 and task else "exited")
        node = nodes.get(task.node_id if task and task.node_id else (spec.get("Labels") or {}).get(NODE_LABEL, ""))
        if running and task.container_id:
            self._containers[service["ID"]] = (task.container_id, task.node_id)
        return ContainerInfo(
            id=service["ID"],
            name=spec["Name"],
            image=container_spec.get("Image", "").split("@")[0],
            state=state,
            host_port=task.published_port if running else None,
            labels=spec.get("Labels") or {},
            created_at=_parse_time(service.get("CreatedAt")),
            started_at=task.started_at if running else None,
            mem_limit_bytes=limits.get("MemoryBytes"),
            cpu_limit=limits["NanoCPUs"] / 1e9 if limits.get("NanoCPUs") else None,
            pids_limit=limits.get("Pids"),
            address=node.address if running and node else None,
            upstream_port=task.published_port if running else None,
            node=node.hostname if node else None,
        )

    @_translate_errors
    def inspect(self, name_or_id: str) -> ContainerInfo:
        service = self.client.api.inspect_service(name_or_id)
        return self._info(service, self._tasks(service["ID"]), self._nodes_by_id())

    @_translate_errors
    def list_managed(self) -> list[ContainerInfo]:
        services = self.client.api.services(filters={"label": f"{MANAGED_LABEL}=true"})
        tasks: dict[str, list[_Task]] = {}
        for task in self._tasks():
            tasks.setdefault(task.service_id, []).append(task)
        nodes = self._nodes_by_id()
        return [self._info(service, tasks.get(service["ID"], []), nodes) for service in services]

    def _converge(self, service_id: str, done, what: str) -> ContainerInfo:
        deadline = time.monotonic() + CONVERGE_TIMEOUT_S
        while True:
            info = self.inspect(service_id)
            if done(info):
                return info
            failed = [t for t in self._tasks(service_id) if t.state in ("failed", "rejected")]
            if time.monotonic() > deadline:
                reason = f" (last task {failed[-1].state})" if failed else ""
                raise EngineError(f"The app did not {what} within {CONVERGE_TIMEOUT_S} s{reason}.")
            time.sleep(CONVERGE_POLL_S)

    @_translate_errors
    def create(self, spec: ContainerSpec) -> ContainerInfo:
        with self._placement_lock:  # two creates at once would pick the same least-loaded node
            node = self._place(spec.data_volume)
            if spec.data_volume is not None:
                attrs = self._node_client(node).api.create_volume(spec.data_volume.name, driver="local", labels=spec.data_volume.labels)
                _check_owner(attrs, spec.data_volume)
            try:
                created = self.client.api.create_service(
                    task_template(spec, node.id),
                    name=spec.name,
                    labels={**spec.labels, NODE_LABEL: node.id},
                    mode={"Replicated": {"Replicas": 1}},
                    endpoint_spec={"Ports": [{"Protocol": "tcp", "TargetPort": spec.app_port, "PublishMode": "host"}]},
                )
            except APIError as exc:
                if exc.status_code == 409:
                    raise ContainerExists("A container with this name already exists.") from exc
                raise
        return self._converge(created["ID"], lambda info: info.running, "start")

    def _post_spec(self, service: dict) -> None:
        """Send `service`'s (changed) spec back as the update of the version it was read at."""
        api = self.client.api
        url = api._url("/services/{0}/update", service["ID"])
        api._raise_for_status(api._post_json(url, data=service["Spec"], params={"version": service["Version"]["Index"]}))

    def _update(self, service_id: str, replicas: int, force: bool = False) -> str:
        service = self.client.api.inspect_service(service_id)
        service["Spec"]["Mode"] = {"Replicated": {"Replicas": replicas}}
        if force:
            template = service["Spec"]["TaskTemplate"]
            template["ForceUpdate"] = template.get("ForceUpdate", 0) + 1
        self._post_spec(service)
        return service["ID"]

    @_translate_errors
    def start(self, container_id: str) -> ContainerInfo:
        return self._converge(self._update(container_id, 1), lambda info: info.running, "start")

    @_translate_errors
    def stop(self, container_id: str, timeout: int = 5) -> ContainerInfo:
        service_id = self._update(container_id, 0)
        self._converge(service_id, lambda info: not any(t.state == "running" for t in self._tasks(service_id)), "stop")
        return self.inspect(service_id)

    @_translate_errors
    def restart(self, container_id: str, timeout: int = 5) -> ContainerInfo:
        before = self.inspect(container_id)
        service_id = self._update(container_id, 1, force=True)
        return self._converge(service_id, lambda info: info.running and info.started_at != before.started_at, "restart")

    @_translate_errors
    def remove(self, container_id: str) -> None:
        try:
            self.client.api.remove_service(container_id)
        except NotFound:
            return

    @_translate_errors
    def rename(self, container_id: str, name: str) -> ContainerInfo:
        """Swarm cannot rename a service: the same service is made under `name`, answering
        before the old one goes (the edge follows the new one as soon as it runs)."""
        service = self.client.api.inspect_service(container_id)
        spec = service["Spec"]
        created = self.client.api.create_service(
            spec["TaskTemplate"], name=name, labels=spec.get("Labels"), mode=spec.get("Mode"),
            endpoint_spec=spec.get("EndpointSpec"),
        )
        info = self._converge(created["ID"], lambda info: info.running, "start")
        self.client.api.remove_service(service["ID"])
        return info

    @_translate_errors
    def update_limits(self, container_id: str, mem_limit_mb: int, cpu_limit: float) -> None:
        service = self.client.api.inspect_service(container_id)
        limits = service["Spec"]["TaskTemplate"].setdefault("Resources", {}).setdefault("Limits", {})
        limits.update({"MemoryBytes": mem_limit_mb * 1024 * 1024, "NanoCPUs": int(cpu_limit * 1e9)})
        self._post_spec(service)

    @_translate_errors
    def move(self, container_id: str) -> ContainerInfo:
        """Pin the service to another node, its volume's files copied there first when the node
        holding them answers (a drained one does; a lost one does not, and the app starts empty)."""
        service = self.client.api.inspect_service(container_id)
        spec = service["Spec"]
        nodes = self._nodes_by_id()
        old = nodes.get((spec.get("Labels") or {}).get(NODE_LABEL, ""))
        with self._placement_lock:
            target = self._place(None, avoid=old.id if old else None)
        container_spec = spec["TaskTemplate"]["ContainerSpec"]
        volume = next((m for m in container_spec.get("Mounts") or [] if m.get("Type") == "volume"), None)
        if volume is not None and old is not None and old.ready:
            self._copy_volume(old, target, volume, container_spec["Image"])
        spec["TaskTemplate"]["Placement"] = {"Constraints": [f"node.id=={target.id}"]}
        spec["Labels"] = {**(spec.get("Labels") or {}), NODE_LABEL: target.id}
        self._post_spec(service)
        replicas = ((spec.get("Mode") or {}).get("Replicated") or {}).get("Replicas", 0)
        return self._converge(service["ID"], lambda info: info.running == bool(replicas) and info.node == target.hostname, "move")

    def _copy_volume(self, source: NodeInfo, target: NodeInfo, mount: dict, image: str) -> None:
        """Stream a volume's files from one node's engine to another's, through two containers that
        only mount it (created, never started: the engine copies files of stopped containers too)."""
        name, labels = mount["Source"], (mount.get("VolumeOptions") or {}).get("Labels") or {}
        source_engine, target_engine = self._node_client(source).api, self._node_client(target).api
        target_engine.create_volume(name, driver="local", labels=labels)
        made: list[tuple] = []
        try:
            for engine in (source_engine, target_engine):
                host_config = engine.create_host_config(mounts=[docker.types.Mount(mount["Target"], name)])
                made.append((engine, engine.create_container(image.split("@")[0], user=NOBODY, host_config=host_config,
                                                             network_disabled=True)["Id"]))
            (_, reader), (_, writer) = made
            stream, _stat = source_engine.get_archive(reader, mount["Target"], chunk_size=256 * 1024)
            target_engine.put_archive(writer, mount["Target"].rsplit("/", 1)[0] or "/", stream)
        finally:
            for engine, container in made:
                engine.remove_container(container, force=True)

    @_translate_errors
    def logs(self, container_id: str, tail: int = 200) -> str:
        raw = self.client.api.service_logs(container_id, stdout=True, stderr=True, tail=tail, timestamps=True)
        return b"".join(raw).decode("utf-8", errors="replace")

    def _where(self, container_id: str) -> tuple[docker.DockerClient, str]:
        """The engine of the node running the service's container, and that container's id."""
        service_id = self.client.api.inspect_service(container_id)["ID"]
        task = _current_task(self._tasks(service_id))
        nodes = self._nodes_by_id()
        if task is None or not task.container_id or task.node_id not in nodes:
            raise ContainerNotFound("This app has no container on any node now.")
        return self._node_client(nodes[task.node_id]), task.container_id

    @_translate_errors
    def archive(self, container_id: str, path: str) -> Iterator[bytes]:
        client, container = self._where(container_id)
        stream, _stat = client.api.get_archive(container, path, chunk_size=256 * 1024)
        return stream

    # -- volumes and images, node by node

    def _each_node(self, call, nodes: list[NodeInfo] | None = None) -> list:
        """`call(node, client)` on every ready node at once; a node that fails to answer is skipped."""
        nodes = self._ready_nodes() if nodes is None else nodes

        def one(node: NodeInfo):
            try:
                return call(node, self._node_client(node))
            except (DockerException, requests.exceptions.RequestException) as exc:
                log.warning("Swarm node %s did not answer: %s", node.hostname, exc)
                return None

        with ThreadPoolExecutor(max_workers=max(1, len(nodes))) as pool:
            return list(pool.map(one, nodes))

    @property
    def storage_enforced(self) -> bool:
        return False

    @_translate_errors
    def remove_volume(self, volume: VolumeSpec) -> bool:
        def remove(node: NodeInfo, client: docker.DockerClient) -> bool:
            try:
                _check_owner(client.api.inspect_volume(volume.name), volume)
            except NotFound:
                return False
            client.api.remove_volume(volume.name)
            return True

        return any(self._each_node(remove))

    @_translate_errors
    def volume_usage(self, volumes: list[VolumeSpec]) -> dict[str, int]:
        wanted = {volume.name for volume in volumes}
        usage: dict[str, int] = {}
        for report in self._each_node(lambda node, client: client.api.df()):
            usage.update(volume_sizes(report or {}, wanted))
        return usage

    @_translate_errors
    def resize_volume(self, volume: VolumeSpec) -> None:
        if volume.size_mb is None:
            return
        used = self.volume_usage([volume]).get(volume.name, 0)
        if used > volume.size_mb * 1024 * 1024:
            raise QuotaBelowUsage(used, volume.size_mb)

    @_translate_errors
    def image_exists(self, image: str) -> bool:
        """True when every ready node has the image (an app may land on any of them)."""

        answers = self._each_node(lambda node, client: has_image(client.api, image))
        return bool(answers) and all(answers)

    @_translate_errors
    def list_images(self) -> list[str]:
        """The tags every ready node has."""
        tags = self._each_node(lambda node, client: {t for image in client.images.list() for t in image.tags})
        if not tags or any(t is None for t in tags):
            return []
        return sorted(set.intersection(*tags))

    # -- usage and events

    def usage(self, container_ids: list[str]) -> dict[str, UsageSample]:
        samples: dict[str, UsageSample] = {}
        remote: list[tuple[str, str, str]] = []
        located = {service_id: self._containers[service_id] for service_id in container_ids if service_id in self._containers}
        self._cgroups.keep_only([container_id for container_id, _ in located.values()])
        for service_id, (container_id, node_id) in located.items():
            sample = self._cgroups.read(container_id)  # the node's cgroups, when it shares this host's
            if sample is None:
                remote.append((service_id, container_id, node_id))
            else:
                samples[service_id] = sample
        if remote:
            nodes = self._nodes_by_id()
            with ThreadPoolExecutor(max_workers=16) as pool:
                found = pool.map(lambda item: self._usage_via_node(nodes.get(item[2]), item[1]), remote)
                for (service_id, _, _), sample in zip(remote, found):
                    if sample is not None:
                        samples[service_id] = sample
        return samples

    def _usage_via_node(self, node: NodeInfo | None, container_id: str) -> UsageSample | None:
        if node is None or not node.ready:
            return None
        return stats_sample(self._node_client(node).api, container_id)

    @_translate_errors
    def events(self) -> EventStream:
        nodes = self._ready_nodes()
        container_filters = {"type": "container", "label": f"{MANAGED_LABEL}=true", "event": list(NODE_EVENT_STATES)}
        streams = [self.client.events(decode=True, filters={"type": "service", "event": ["remove"]})]
        for node in nodes:
            try:
                streams.append(self._node_client(node).events(decode=True, filters=container_filters))
            except (DockerException, requests.exceptions.RequestException) as exc:
                log.warning("Swarm node %s gives no events: %s", node.hostname, exc)
        ready = {node.id for node in nodes}

        def nodes_changed() -> bool:
            try:
                return {node.id for node in self._ready_nodes()} != ready
            except (DockerException, requests.exceptions.RequestException, EngineUnavailable):
                return True

        return _MergedEvents(streams, nodes_changed)
