"""What the panel needs from a container engine, whatever the engine.

Like JupyterHub's Spawner: one small class per engine. Implementations raise
only `saas_panel.errors` types (EngineUnavailable, ContainerNotFound,
EngineError), never their SDK's exceptions.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from saas_panel.errors import EngineError

MANAGED_LABEL = "saas-panel.managed"
OWNER_LABEL = "saas-panel.owner"
DATA_PATH = "/data"


def owner_labels(owner: str) -> dict[str, str]:
    """The labels of everything the panel makes for `owner` on the engine."""
    return {MANAGED_LABEL: "true", OWNER_LABEL: owner}


@dataclass(frozen=True)
class VolumeSpec:
    """One user's persistent storage: a named volume, mounted read-write at `path`.

    Callers build it in one place (provisioning.data_volume) and pass it inside ContainerSpec.
    """

    name: str
    owner: str
    path: str = DATA_PATH
    size_mb: int | None = None  # the owner's quota (their plan's storage); None: no cap

    @property
    def labels(self) -> dict[str, str]:
        return owner_labels(self.owner)


@dataclass(frozen=True)
class ContainerSpec:
    """Everything needed to create one user's hardened container."""

    name: str
    image: str
    owner: str
    app_port: int
    bind_host: str
    network: str
    mem_limit_mb: int
    cpu_limit: float
    pids_limit: int
    env: dict[str, str] = field(default_factory=dict)
    log_max_size: str = "10m"  # the engine keeps at most log_max_files files of this size
    log_max_files: int = 3
    nofile_limit: int = 1024  # open files per process, soft and hard
    data_volume: VolumeSpec | None = None  # the owner's storage, made on first use

    @property
    def labels(self) -> dict[str, str]:
        return owner_labels(self.owner)


@dataclass(frozen=True)
class ContainerInfo:
    id: str
    name: str
    image: str
    state: str  # the engine's word: created, running, restarting, exited, paused, dead
    host_port: int | None
    labels: dict[str, str]
    created_at: datetime | None = None
    started_at: datetime | None = None
    mem_limit_bytes: int | None = None
    cpu_limit: float | None = None
    pids_limit: int | None = None
    address: str | None = None  # what the edge dials: the container's IP on its engine network, or its node's
    upstream_port: int | None = None  # the port the edge dials at `address`; None: the app port itself
    node: str | None = None  # the host it runs on, for an engine of several hosts (its hostname)

    @property
    def running(self) -> bool:
        return self.state in ("running", "restarting")

    @property
    def owner(self) -> str | None:
        """The username the container was made for; None for one the panel did not make."""
        return self.labels.get(OWNER_LABEL)


@dataclass(frozen=True)
class NodeInfo:
    """One host of an engine that spans several (a Swarm node)."""

    id: str
    hostname: str
    address: str
    role: str  # manager or worker
    ready: bool  # the engine hears from it
    available: bool  # it takes new apps (not drained or paused)


@dataclass(frozen=True)
class UsageSample:
    """Cumulative CPU time and current memory of one container at `read_at` (monotonic seconds)."""

    cpu_ns: int
    mem_bytes: int
    mem_limit_bytes: int | None
    read_at: float


@dataclass(frozen=True)
class ContainerEvent:
    container_id: str  # the ContainerInfo.id of what it is about (on Swarm: the service's)
    name: str
    action: str  # the engine's word (start, die, destroy, ...), kept for the activity log
    owner: str | None
    # What the event leaves the container as, in engine-neutral words: "running", "stopped" or
    # "missing"; None when it changes nothing by itself (an engine's kill is followed by its die).
    state: Literal["running", "stopped", "missing"] | None


class EventStream(ABC):
    """A blocking iterator of engine events; `close()` from another thread ends it."""

    @abstractmethod
    def __iter__(self) -> Iterator[ContainerEvent]: ...

    @abstractmethod
    def close(self) -> None: ...


class ContainerRuntime(ABC):
    @abstractmethod
    def ping(self) -> bool:
        """True when the engine answers."""

    @abstractmethod
    def create(self, spec: ContainerSpec) -> ContainerInfo:
        """Create and start a container; raise EngineError on a name conflict.

        `spec.data_volume` is created first if missing; one of that name labelled for another
        owner (or made outside the panel) is an EngineError, never mounted.
        """

    @abstractmethod
    def start(self, container_id: str) -> ContainerInfo: ...

    @abstractmethod
    def stop(self, container_id: str, timeout: int = 5) -> ContainerInfo: ...

    @abstractmethod
    def restart(self, container_id: str, timeout: int = 5) -> ContainerInfo: ...

    @abstractmethod
    def remove(self, container_id: str) -> None:
        """Remove (forcefully); a container already gone is not an error."""

    @abstractmethod
    def remove_volume(self, volume: VolumeSpec) -> bool:
        """Remove a data volume with everything in it; False when there was none. EngineError
        when a container still uses it or it is not `volume.owner`'s."""

    @abstractmethod
    def volume_usage(self, volumes: list[VolumeSpec]) -> dict[str, int]:
        """Bytes used in each volume that exists, by volume name, as cheaply as the engine allows."""

    @abstractmethod
    def resize_volume(self, volume: VolumeSpec) -> None:
        """Make the volume's cap `volume.size_mb`. QuotaBelowUsage when its files take more
        than that; EngineError when the engine cannot change it now (a shrink while mounted)."""

    @property
    @abstractmethod
    def storage_enforced(self) -> bool:
        """True when a write past a volume's size fails inside the container (ENOSPC); False when
        the panel can only measure usage and must stop the container itself."""

    @abstractmethod
    def image_exists(self, image: str) -> bool:
        """True when the engine has `image` locally (the panel never pulls)."""

    @abstractmethod
    def list_images(self) -> list[str]:
        """The tags (name:tag) of the images the engine has locally, sorted."""

    @abstractmethod
    def rename(self, container_id: str, name: str) -> ContainerInfo: ...

    @abstractmethod
    def inspect(self, name_or_id: str) -> ContainerInfo: ...

    @abstractmethod
    def archive(self, container_id: str, path: str) -> Iterator[bytes]:
        """A tar of `path` in the container (running or not), as the engine streams it: the
        container is asked before this returns (ContainerNotFound now), the bytes as they are read."""

    @abstractmethod
    def update_limits(self, container_id: str, mem_limit_mb: int, cpu_limit: float) -> None:
        """Change memory (= memory + swap) and CPU limits of a container, running or not."""

    @abstractmethod
    def list_managed(self) -> list[ContainerInfo]:
        """Every container carrying the managed label, running or not."""

    @abstractmethod
    def logs(self, container_id: str, tail: int = 200) -> str: ...

    @abstractmethod
    def usage(self, container_ids: list[str]) -> dict[str, UsageSample]:
        """Cumulative counters of running containers, as cheaply as the engine allows."""

    @abstractmethod
    def events(self) -> EventStream:
        """State changes of managed containers, as they happen."""

    def nodes(self) -> list[NodeInfo]:
        """The hosts of an engine that spans several; [] for one that runs on a single host."""
        return []

    def move(self, container_id: str) -> ContainerInfo:
        """Move an app (and its volume's files, when the node holding them still answers) to
        another node; for engines that span several hosts."""
        raise EngineError("This engine runs on a single host: there is no other node to move to.")
