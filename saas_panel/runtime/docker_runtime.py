"""The Docker engine, through the docker SDK."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from functools import lru_cache, wraps
from pathlib import Path
from typing import TypeVar

import docker
import requests
from docker.errors import APIError, DockerException, ImageNotFound, NotFound
from docker.types import LogConfig, Mount, Ulimit

from saas_panel import faults
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
    UsageSample,
    VolumeSpec,
)
from saas_panel.runtime.cgroups import CgroupReader
from saas_panel.runtime.loop_volumes import MIB, MOUNT_OPTIONS, LoopVolumes

log = logging.getLogger(__name__)
T = TypeVar("T")
API_TIMEOUT_S = 30
STATS_API_CONCURRENCY = 16
ARCHIVE_CHUNK_BYTES = 256 * 1024
DISK_USAGE_WAIT_S = 60  # for another process's disk usage report (the engine runs one at a time)
DISK_USAGE_RETRY_S = 0.25
# The events that change a container (its state, its name, its being there), and the state each
# leaves it in (ContainerEvent.state). Only these are asked for: healthcheck exec_* events are the
# bulk otherwise.
EVENT_STATES = {
    "create": None,  # created, not started: the collector's inventory takes it in
    "rename": None,
    "start": "running",
    "restart": "running",
    "unpause": "running",
    "pause": "stopped",
    "die": "stopped",
    "stop": "stopped",
    "kill": None,  # followed by die
    "destroy": "missing",
}
TMPFS_OPTIONS = "rw,noexec,nosuid,nodev,size=16m"
NOBODY = "65534:65534"
UNAVAILABLE = "The container engine is unavailable. Is Docker running?"
BRIDGE_NAME_OPTION = "com.docker.network.bridge.name"


def bridge_name(network: str) -> str:
    """The host interface of a user network, fixed so that firewall rules can name it.

    At most 15 characters (the kernel's limit); deploy/firewall/user-firewall.sh derives the same.
    """
    return "saas-" + hashlib.sha1(network.encode()).hexdigest()[:10]


def _translate_errors(method: Callable[..., T]) -> Callable[..., T]:
    """Turn SDK exceptions into the domain errors every layer above understands."""

    @wraps(method)
    def wrapper(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except ImageNotFound as exc:
            raise EngineError(f"The image is not on the engine: {exc.explanation or exc}") from exc
        except NotFound as exc:
            raise ContainerNotFound("This container no longer exists.") from exc
        except APIError as exc:
            if exc.status_code == 409 and "already in use" in str(exc.explanation or ""):
                raise ContainerExists("A container with this name already exists.") from exc
            raise EngineError(f"The container engine refused: {exc.explanation or exc}") from exc
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            raise EngineUnavailable(UNAVAILABLE) from exc
        except DockerException as exc:
            raise EngineUnavailable(f"{UNAVAILABLE} ({exc})") from exc

    return wrapper


def _parse_time(raw: str | None) -> datetime | None:
    if not raw or raw.startswith("0001-"):
        return None
    head, _, fraction = raw.rstrip("Z").partition(".")
    parsed = datetime.fromisoformat(head).replace(tzinfo=timezone.utc)
    return parsed.replace(microsecond=int((fraction + "000000")[:6])) if fraction else parsed


def _published_port(port_map: dict | None) -> int | None:
    for bindings in (port_map or {}).values():
        for binding in bindings or []:
            if binding.get("HostPort"):
                return int(binding["HostPort"])
    return None


def _network_address(attrs: dict) -> str | None:
    networks = (attrs.get("NetworkSettings") or {}).get("Networks") or {}
    return next((n.get("IPAddress") for n in networks.values() if n.get("IPAddress")), None)


def _from_inspect(attrs: dict) -> ContainerInfo:
    host_config = attrs.get("HostConfig") or {}
    nano_cpus = host_config.get("NanoCpus") or 0
    return ContainerInfo(
        id=attrs["Id"],
        name=attrs["Name"].lstrip("/"),
        image=(attrs.get("Config") or {}).get("Image", ""),
        state=attrs["State"]["Status"],
        host_port=_published_port((attrs.get("NetworkSettings") or {}).get("Ports")),
        labels=(attrs.get("Config") or {}).get("Labels") or {},
        address=_network_address(attrs),
        created_at=_parse_time(attrs.get("Created")),
        started_at=_parse_time(attrs["State"].get("StartedAt")) if attrs["State"].get("Running") else None,
        mem_limit_bytes=host_config.get("Memory") or None,
        cpu_limit=nano_cpus / 1e9 if nano_cpus else None,
        pids_limit=host_config.get("PidsLimit") or None,
    )


def _from_summary(attrs: dict) -> ContainerInfo:
    """A container from the list endpoint (no per-container inspect: one API call for all)."""
    port = next((p.get("PublicPort") for p in attrs.get("Ports") or [] if p.get("PublicPort")), None)
    return ContainerInfo(
        id=attrs["Id"],
        name=(attrs.get("Names") or ["/"])[0].lstrip("/"),
        image=attrs.get("Image", ""),
        state=attrs.get("State", ""),
        host_port=port,
        labels=attrs.get("Labels") or {},
        created_at=datetime.fromtimestamp(attrs["Created"], tz=timezone.utc) if attrs.get("Created") else None,
    )


def _memory_from_stats(stats: dict) -> tuple[int, int | None]:
    """(memory in use without the page cache, limit) from a stats API answer, as `docker stats` counts it."""
    memory = stats.get("memory_stats") or {}
    inactive = (memory.get("stats") or {}).get("total_inactive_file", 0)
    return max(0, memory.get("usage", 0) - inactive), memory.get("limit")


class DockerEventStream(EventStream):
    def __init__(self, stream):
        self._stream = stream

    def __iter__(self) -> Iterator[ContainerEvent]:
        try:
            for raw in self._stream:
                actor = raw.get("Actor") or {}
                attributes = actor.get("Attributes") or {}
                action = (raw.get("Action") or raw.get("status") or "").split(":")[0]
                yield ContainerEvent(
                    container_id=actor.get("ID") or raw.get("id", ""),
                    name=attributes.get("name", ""),
                    action=action,
                    owner=attributes.get(OWNER_LABEL),
                    state=EVENT_STATES.get(action),
                )
        except (requests.exceptions.RequestException, DockerException, OSError, AttributeError) as exc:
            raise EngineUnavailable(UNAVAILABLE) from exc

    def close(self) -> None:
        try:
            self._stream.close()
        except Exception:  # noqa: BLE001 - closing a broken stream must not raise
            pass


def _usage_from_stats(stats: dict) -> UsageSample | None:
    try:
        cpu_ns = stats["cpu_stats"]["cpu_usage"]["total_usage"]
    except (KeyError, TypeError):
        return None
    mem_bytes, mem_limit = _memory_from_stats(stats)
    return UsageSample(cpu_ns=cpu_ns, mem_bytes=mem_bytes, mem_limit_bytes=mem_limit, read_at=time.monotonic())


def stats_sample(api, container_id: str) -> UsageSample | None:
    """A container's counters from its engine's stats API (one_shot); None when it does not answer."""
    try:
        return _usage_from_stats(api.stats(container_id, stream=False, one_shot=True))
    except (DockerException, requests.exceptions.RequestException):
        return None


def has_image(api, image: str) -> bool:
    """True when the engine behind `api` has `image` locally."""
    try:
        api.inspect_image(image)
    except NotFound:
        return False
    except APIError as exc:
        if exc.status_code == 400:  # not an image reference at all (invalid reference format)
            return False
        raise
    return True


def volume_sizes(disk_usage: dict, wanted: set[str]) -> dict[str, int]:
    """Bytes used by each of the `wanted` volumes in an engine's disk usage report (those it measured)."""
    return {
        entry["Name"]: entry["UsageData"]["Size"]
        for entry in disk_usage.get("Volumes") or []
        if entry.get("Name") in wanted and (entry.get("UsageData") or {}).get("Size", -1) >= 0
    }


def _check_owner(volume_attrs: dict, volume: VolumeSpec) -> None:
    """Refuse a volume of that name that the panel did not make for `volume.owner`."""
    labels = volume_attrs.get("Labels") or {}
    if labels.get(MANAGED_LABEL) != "true" or labels.get(OWNER_LABEL) != volume.owner:
        raise EngineError(f"The volume {volume.name} is not {volume.owner}'s; the panel leaves it alone.")


def _loop_options(loops: LoopVolumes, name: str) -> dict[str, str]:
    """The local driver's options for a volume on `name`'s loop file system (it takes no `o=loop` itself)."""
    return {"type": "ext4", "device": str(loops.link(name)), "o": MOUNT_OPTIONS}


@lru_cache(maxsize=8)
def _loop_volumes_for(mode: str, storage_dir: Path) -> LoopVolumes | None:
    """The storage mode, chosen once per setting: loop file systems, or None (usage measured only)."""
    if mode == "none":
        return None
    loops = LoopVolumes(storage_dir)
    if mode == "auto" and loops.problem:
        log.info("Storage quotas are measured, not enforced: %s (SAAS_PANEL_STORAGE_QUOTA=auto)", loops.problem)
        return None
    return loops


def _data_mounts(volume: VolumeSpec | None) -> list[Mount] | None:
    # The engine takes no nosuid/nodev/noexec for a named volume: setuid files are inert under
    # no-new-privileges, no capability is left to make device nodes, and noexec would not stop
    # `python3 /data/script.py`.
    return [Mount(target=volume.path, source=volume.name, type="volume")] if volume else None


def create_options(spec: ContainerSpec) -> dict:
    """The SDK's create arguments for `spec`, besides the image: every hardening of a user
    container is written here and only here (the benchmark's raw side and the image test use it too)."""
    memory = f"{spec.mem_limit_mb}m"
    return dict(
        name=spec.name,
        hostname=spec.name[:63],
        labels=spec.labels,
        environment=spec.env,
        # No host port unless asked for: the edge dials the container on its network.
        ports={f"{spec.app_port}/tcp": (spec.bind_host, None)} if spec.bind_host else None,
        network=spec.network,
        user=NOBODY,
        init=True,
        read_only=True,
        tmpfs={"/tmp": TMPFS_OPTIONS},
        mounts=_data_mounts(spec.data_volume),
        cap_drop=["ALL"],
        security_opt=["no-new-privileges:true"],
        pids_limit=spec.pids_limit,
        ulimits=[Ulimit(name="nofile", soft=spec.nofile_limit, hard=spec.nofile_limit)],
        log_config=LogConfig(
            type=LogConfig.types.JSON,
            config={"max-size": spec.log_max_size, "max-file": str(spec.log_max_files)},
        ),
        mem_limit=memory,
        memswap_limit=memory,
        nano_cpus=int(spec.cpu_limit * 1e9),
        # Started again after a crash and after the engine restarts (on-failure would leave it stopped
        # then: tests/faults/test_engine_restart.py); a stop by its owner, an admin or the idle culler holds.
        restart_policy={"Name": "unless-stopped"},
    )


def engine_client(base_url: str | None = None) -> docker.DockerClient:
    """A client of the engine DOCKER_HOST names, or of the one at `base_url` (with DOCKER_CERT_PATH's
    TLS when DOCKER_TLS_VERIFY is set, as for DOCKER_HOST)."""
    try:
        if base_url is None:
            return docker.DockerClient.from_env(timeout=API_TIMEOUT_S, max_pool_size=32)
        tls = docker.utils.kwargs_from_env().get("tls", False)
        return docker.DockerClient(base_url=base_url, tls=tls, timeout=API_TIMEOUT_S, max_pool_size=32)
    except DockerException as exc:
        raise EngineUnavailable(f"{UNAVAILABLE} ({exc})") from exc


class DockerRuntime(ContainerRuntime):
    def __init__(self, client: docker.DockerClient | None = None, cgroups: CgroupReader | None = None):
        self._client = client
        self._cgroups = cgroups or CgroupReader()
        self._network_lock = threading.Lock()
        self._networks_ready: set[str] = set()
        self._disk_usage_turn = threading.Lock()

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = engine_client()
        return self._client

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except (DockerException, requests.exceptions.RequestException, EngineUnavailable):
            return False

    @_translate_errors
    def _ensure_network(self, name: str) -> None:
        """A bridge network for user containers with inter-container traffic off,
        on the host interface that deploy/firewall/user-firewall.sh isolates."""
        with self._network_lock:
            if name in self._networks_ready:
                return
            existing = next((n for n in self.client.networks.list(names=[name]) if n.name == name), None)
            if existing is not None and not self._replace_unfirewalled(existing):
                self._networks_ready.add(name)
                return
            try:
                self.client.networks.create(
                    name,
                    driver="bridge",
                    options={"com.docker.network.bridge.enable_icc": "false", BRIDGE_NAME_OPTION: bridge_name(name)},
                    labels={MANAGED_LABEL: "true"},
                )
            except APIError as exc:
                if exc.status_code != 409:
                    raise
            self._networks_ready.add(name)

    def _replace_unfirewalled(self, network) -> bool:
        """Remove a user network made before it had a fixed bridge name; True when it is gone."""
        reason = "it has containers"
        try:
            network.reload()  # the list endpoint leaves out the attached containers
            if (network.attrs.get("Options") or {}).get(BRIDGE_NAME_OPTION) == bridge_name(network.name):
                return False
            if not network.attrs.get("Containers"):
                network.remove()
                return True
        except NotFound:
            return True  # another process replaced it first
        except APIError as exc:  # a container joined meanwhile, or an engine API proxy forbids the removal
            reason = f"the engine refused to remove it: {exc.explanation or exc}"
        log.warning(
            "Network %s has no fixed bridge name, so the user firewall does not cover it (%s). "
            "Remove its containers and the network; the panel recreates both.",
            network.name,
            reason,
        )
        return False

    @_translate_errors
    def create(self, spec: ContainerSpec) -> ContainerInfo:
        self._ensure_network(spec.network)
        if spec.data_volume is not None:
            self._ensure_volume(spec.data_volume)
        container = self.client.containers.create(spec.image, **create_options(spec))
        faults.reached("runtime.container_created")
        container.start()
        container.reload()
        return _from_inspect(container.attrs)

    @_translate_errors
    def start(self, container_id: str) -> ContainerInfo:
        container = self.client.containers.get(container_id)
        self._attach_volumes(container.attrs)
        container.start()
        container.reload()
        return _from_inspect(container.attrs)

    @_translate_errors
    def stop(self, container_id: str, timeout: int = 5) -> ContainerInfo:
        container = self.client.containers.get(container_id)
        container.stop(timeout=timeout)
        container.reload()
        return _from_inspect(container.attrs)

    @_translate_errors
    def restart(self, container_id: str, timeout: int = 5) -> ContainerInfo:
        container = self.client.containers.get(container_id)
        self._attach_volumes(container.attrs)
        container.restart(timeout=timeout)
        container.reload()
        return _from_inspect(container.attrs)

    @_translate_errors
    def remove(self, container_id: str) -> None:
        try:
            self.client.api.remove_container(container_id, force=True)
        except NotFound:
            return
        except APIError as exc:
            if exc.status_code == 409 and "already in progress" in str(exc.explanation or ""):
                return
            raise

    def _loops(self) -> LoopVolumes | None:
        """The loop file systems in `loop` mode; None in `none` mode."""
        settings = get_settings()
        loops = _loop_volumes_for(settings.storage_quota, settings.storage_dir)
        if loops is not None and loops.problem:
            raise EngineError(f"SAAS_PANEL_STORAGE_QUOTA=loop, but this host cannot make loop file systems: {loops.problem}.")
        return loops

    @property
    def storage_enforced(self) -> bool:
        settings = get_settings()
        return _loop_volumes_for(settings.storage_quota, settings.storage_dir) is not None

    def _ensure_volume(self, volume: VolumeSpec) -> None:
        loops = self._loops()
        capped = loops is not None and volume.size_mb is not None
        options = _loop_options(loops, volume.name) if capped else None
        # Creating a volume that exists returns it as it is (with its own labels and options): one call,
        # no race. Its file system is made only once the volume is known to be this owner's.
        attrs = self.client.api.create_volume(volume.name, driver="local", driver_opts=options, labels=volume.labels)
        _check_owner(attrs, volume)
        if loops is not None and attrs.get("Options") == _loop_options(loops, volume.name):
            loops.ensure(volume.name, volume.size_mb)
        elif capped:
            log.warning("The volume %s was made before storage quotas: its size is not capped.", volume.name)

    def _attach_volumes(self, container_attrs: dict) -> None:
        """Attach the loop file systems a stopped container mounts: after a reboot their devices are gone."""
        loops = self._loops()
        if loops is None or (container_attrs.get("State") or {}).get("Running"):
            return  # a running container's are attached and mounted
        for mount in container_attrs.get("Mounts") or []:
            if mount.get("Type") == "volume" and loops.exists(mount.get("Name", "")):
                loops.ensure(mount["Name"], None)

    def _in_use(self, volume_name: str) -> bool:
        """True when a running container has the volume mounted."""
        return bool(self.client.api.containers(filters={"volume": volume_name}))

    @_translate_errors
    def remove_volume(self, volume: VolumeSpec) -> bool:
        try:
            _check_owner(self.client.api.inspect_volume(volume.name), volume)
            self.client.api.remove_volume(volume.name)
            removed = True
        except NotFound:
            removed = False
        loops = self._loops()
        filesystem_removed = loops is not None and loops.remove(volume.name)
        return removed or filesystem_removed

    @_translate_errors
    def volume_usage(self, volumes: list[VolumeSpec]) -> dict[str, int]:
        wanted = {volume.name for volume in volumes}
        loops = self._loops()
        if loops is not None:  # a stat of each image file
            return {name: used for name in wanted if (used := loops.used_bytes(name)) is not None}
        return volume_sizes(self._disk_usage(), wanted)

    def _disk_usage(self) -> dict:
        """The engine's disk usage report: one call for all volumes (the engine walks their files).
        The engine runs one at a time and refuses a second meanwhile: calls from this process take
        turns, and one refused because another process's runs waits for it."""
        deadline = time.monotonic() + DISK_USAGE_WAIT_S
        with self._disk_usage_turn:
            while True:
                try:
                    return self.client.api.df()
                except APIError as exc:
                    if "disk usage operation is already running" not in str(exc) or time.monotonic() > deadline:
                        raise
                time.sleep(DISK_USAGE_RETRY_S)

    @_translate_errors
    def resize_volume(self, volume: VolumeSpec) -> None:
        if volume.size_mb is None:
            return
        loops = self._loops()
        if loops is not None and loops.exists(volume.name):
            loops.resize(volume.name, volume.size_mb, mounted=self._in_use(volume.name))
            return
        # Nothing to resize: the quota is only measured (or the volume is made at this size).
        used = self.volume_usage([volume]).get(volume.name, 0)
        if used > volume.size_mb * MIB:
            raise QuotaBelowUsage(used, volume.size_mb)

    @_translate_errors
    def image_exists(self, image: str) -> bool:
        return has_image(self.client.api, image)

    @_translate_errors
    def list_images(self) -> list[str]:
        return sorted({tag for image in self.client.images.list() for tag in image.tags if not tag.startswith("<none>")})

    @_translate_errors
    def rename(self, container_id: str, name: str) -> ContainerInfo:
        self.client.api.rename(container_id, name)
        return _from_inspect(self.client.api.inspect_container(container_id))

    @_translate_errors
    def inspect(self, name_or_id: str) -> ContainerInfo:
        return _from_inspect(self.client.api.inspect_container(name_or_id))

    @_translate_errors
    def archive(self, container_id: str, path: str) -> Iterator[bytes]:
        stream, _stat = self.client.api.get_archive(container_id, path, chunk_size=ARCHIVE_CHUNK_BYTES)
        return stream

    @_translate_errors
    def update_limits(self, container_id: str, mem_limit_mb: int, cpu_limit: float) -> None:
        # The SDK's update_container has no NanoCpus, and CpuQuota conflicts with it: post the API body.
        memory = mem_limit_mb * 1024 * 1024
        api = self.client.api
        body = {"Memory": memory, "MemorySwap": memory, "NanoCpus": int(cpu_limit * 1e9)}
        api._raise_for_status(api._post_json(api._url("/containers/{0}/update", container_id), data=body))

    @_translate_errors
    def list_managed(self) -> list[ContainerInfo]:
        summaries = self.client.api.containers(all=True, filters={"label": f"{MANAGED_LABEL}=true"})
        return [_from_summary(summary) for summary in summaries]

    @_translate_errors
    def logs(self, container_id: str, tail: int = 200) -> str:
        raw = self.client.api.logs(container_id, tail=tail, timestamps=True)
        return raw.decode("utf-8", errors="replace")

    def usage(self, container_ids: list[str]) -> dict[str, UsageSample]:
        samples: dict[str, UsageSample] = {}
        remote: list[str] = []
        self._cgroups.keep_only(container_ids)
        for container_id in container_ids:
            sample = self._cgroups.read(container_id)
            if sample is None:
                remote.append(container_id)
            else:
                samples[container_id] = sample
        if remote:  # cgroups not visible here: the stats API, one_shot, bounded concurrency
            with ThreadPoolExecutor(max_workers=STATS_API_CONCURRENCY) as pool:
                for container_id, sample in zip(remote, pool.map(lambda c: stats_sample(self.client.api, c), remote)):
                    if sample is not None:
                        samples[container_id] = sample
        return samples

    @_translate_errors
    def events(self) -> EventStream:
        filters = {"type": "container", "label": f"{MANAGED_LABEL}=true", "event": list(EVENT_STATES)}
        stream = self.client.events(decode=True, filters=filters)
        return DockerEventStream(stream)
