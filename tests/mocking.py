"""Container runtimes in memory, for logic tests that need no engine (engine tests use the real one).

Modelled on JupyterHub's tests/mocking.py (MockSpawner, SlowSpawner, NeverSpawner):
FakeRuntime keeps its containers in a dict; SlowRuntime's create waits until the
test releases it; FailingRuntime's create fails as an engine does.
"""

from __future__ import annotations

import io
import itertools
import queue
import tarfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timezone

from saas_panel.config import get_settings
from saas_panel.errors import ContainerExists, ContainerNotFound, EngineError, QuotaBelowUsage
from saas_panel.runtime.base import (
    MANAGED_LABEL, ContainerEvent, ContainerInfo, ContainerRuntime, ContainerSpec, EventStream, NodeInfo, UsageSample, VolumeSpec,
)

FIRST_HOST_PORT = 20000
ARCHIVE_CHUNK_BYTES = 512
MIB = 1024 * 1024
WAIT_LIMIT_S = 30  # a test that forgets to release a SlowRuntime fails instead of hanging


class FakeEventStream(EventStream):
    """What the fake engine does while the stream is open, as events; ends when closed or broken."""

    def __init__(self):
        self._events: queue.Queue = queue.Queue()

    def put(self, event: ContainerEvent | None) -> None:
        self._events.put(event)

    def __iter__(self) -> Iterator[ContainerEvent]:
        while (event := self._events.get()) is not None:
            yield event

    def close(self) -> None:
        self._events.put(None)


class FakeRuntime(ContainerRuntime):
    """Containers as ContainerInfo values by id: created running, with an address and (if asked) a host port.
    Every change is an event on the streams `events()` opened, as an engine's would be (`crash`
    and `vanish` are changes behind the panel's back).
    Data volumes are their owners by name; what their files take is `volume_bytes`, set by tests.
    An engine of several hosts when a test sets `node_list` (what nodes() returns) and `node`
    (the hostname new containers run on)."""

    def __init__(self, storage_enforced: bool = True):
        self.containers: dict[str, ContainerInfo] = {}
        self.volumes: dict[str, str] = {}
        self.volume_bytes: dict[str, int] = {}
        self.volume_sizes: dict[str, int | None] = {}  # the size_mb each volume was made or resized to
        self.images: set[str] = {get_settings().user_image}
        self._storage_enforced = storage_enforced
        self.files: dict[str, dict[str, bytes]] = {}  # what each owner's /data holds, for archive()
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self.node_list: list[NodeInfo] = []
        self.node: str | None = None
        self.streams: list[FakeEventStream] = []
        self.list_calls = 0

    def _announce(self, info: ContainerInfo, action: str, state: str | None) -> None:
        event = ContainerEvent(container_id=info.id, name=info.name, action=action, owner=info.owner, state=state)
        for stream in self.streams:
            stream.put(event)

    def ping(self) -> bool:
        return True

    def create(self, spec: ContainerSpec) -> ContainerInfo:
        with self._lock:
            if any(info.name == spec.name for info in self.containers.values()):
                raise ContainerExists("A container with this name already exists.")
            if spec.data_volume is not None and self.volumes.setdefault(spec.data_volume.name, spec.owner) != spec.owner:
                raise EngineError(f"The volume {spec.data_volume.name} is not {spec.owner}'s.")
            if spec.data_volume is not None:
                self.volume_sizes.setdefault(spec.data_volume.name, spec.data_volume.size_mb)
            number = next(self._numbers)
            info = ContainerInfo(
                id=uuid.uuid4().hex,
                name=spec.name,
                image=spec.image,
                state="running",
                host_port=FIRST_HOST_PORT + number if spec.bind_host else None,
                labels=spec.labels,
                created_at=datetime.now(timezone.utc),
                started_at=datetime.now(timezone.utc),
                mem_limit_bytes=spec.mem_limit_mb * 1024 * 1024,
                cpu_limit=spec.cpu_limit,
                pids_limit=spec.pids_limit,
                address=f"10.99.0.{number}",
                node=self.node,
            )
            self.containers[info.id] = info
        self._announce(info, "start", "running")
        return info

    def _find(self, name_or_id: str) -> ContainerInfo:
        found = self.containers.get(name_or_id) or next((i for i in self.containers.values() if i.name == name_or_id), None)
        if found is None:
            raise ContainerNotFound("This container no longer exists.")
        return found

    def _set_state(self, name_or_id: str, state: str) -> ContainerInfo:
        with self._lock:
            info = self._find(name_or_id)
            started_at = datetime.now(timezone.utc) if state == "running" else None
            info = self.containers[info.id] = replace(info, state=state, started_at=started_at)
        self._announce(info, "start" if state == "running" else "die", "running" if state == "running" else "stopped")
        return info

    def start(self, container_id: str) -> ContainerInfo:
        return self._set_state(container_id, "running")

    def stop(self, container_id: str, timeout: int = 5) -> ContainerInfo:
        return self._set_state(container_id, "exited")

    def restart(self, container_id: str, timeout: int = 5) -> ContainerInfo:
        return self._set_state(container_id, "running")

    def remove(self, container_id: str) -> None:
        with self._lock:
            try:
                info = self.containers.pop(self._find(container_id).id)
            except ContainerNotFound:
                return
        self._announce(info, "destroy", "missing")

    def remove_volume(self, volume: VolumeSpec) -> bool:
        with self._lock:
            if self.volumes.get(volume.name, volume.owner) != volume.owner:
                raise EngineError(f"The volume {volume.name} is not {volume.owner}'s.")
            return self.volumes.pop(volume.name, None) is not None

    def volume_usage(self, volumes: list[VolumeSpec]) -> dict[str, int]:
        with self._lock:
            return {volume.name: self.volume_bytes.get(volume.name, 0) for volume in volumes if volume.name in self.volumes}

    def resize_volume(self, volume: VolumeSpec) -> None:
        used = self.volume_bytes.get(volume.name, 0)
        if volume.size_mb is not None and used > volume.size_mb * MIB:
            raise QuotaBelowUsage(used, volume.size_mb)
        self.volume_sizes[volume.name] = volume.size_mb

    @property
    def storage_enforced(self) -> bool:
        return self._storage_enforced

    def image_exists(self, image: str) -> bool:
        return image in self.images

    def list_images(self) -> list[str]:
        return sorted(self.images)

    def rename(self, container_id: str, name: str) -> ContainerInfo:
        with self._lock:
            info = self._find(container_id)
            if any(other.name == name for other in self.containers.values() if other.id != info.id):
                raise ContainerExists("A container with this name already exists.")
            info = self.containers[info.id] = replace(info, name=name)
        self._announce(info, "rename", None)
        return info

    def vanish(self, name: str) -> None:
        """The container goes away behind the panel's back (removed by hand, lost with the engine's data)."""
        self.remove(name)

    def crash(self, name: str) -> None:
        """The app dies behind the panel's back."""
        self._set_state(name, "exited")

    def break_streams(self) -> None:
        """Every open event stream ends, as when the engine's connection drops."""
        streams, self.streams = self.streams, []
        for stream in streams:
            stream.close()

    def inspect(self, name_or_id: str) -> ContainerInfo:
        with self._lock:
            return self._find(name_or_id)

    def archive(self, container_id: str, path: str) -> Iterator[bytes]:
        """A tar of `files[owner]` (relative path -> content) under the base name of `path`, as the engine names it."""
        owner = self.inspect(container_id).owner
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            for name, content in self.files.get(owner, {}).items():
                entry = tarfile.TarInfo(f"{path.rstrip('/').rsplit('/', 1)[-1]}/{name}")
                entry.size = len(content)
                archive.addfile(entry, io.BytesIO(content))
        data = buffer.getvalue()
        return iter([data[i : i + ARCHIVE_CHUNK_BYTES] for i in range(0, len(data), ARCHIVE_CHUNK_BYTES)])

    def update_limits(self, container_id: str, mem_limit_mb: int, cpu_limit: float) -> None:
        with self._lock:
            info = self._find(container_id)
            self.containers[info.id] = replace(info, mem_limit_bytes=mem_limit_mb * 1024 * 1024, cpu_limit=cpu_limit)

    def list_managed(self) -> list[ContainerInfo]:
        with self._lock:
            self.list_calls += 1
            return [info for info in self.containers.values() if info.labels.get(MANAGED_LABEL) == "true"]

    def logs(self, container_id: str, tail: int = 200) -> str:
        self.inspect(container_id)
        return ""

    def usage(self, container_ids: list[str]) -> dict[str, UsageSample]:
        with self._lock:
            running = [self.containers[i] for i in container_ids if i in self.containers and self.containers[i].running]
        return {info.id: UsageSample(cpu_ns=0, mem_bytes=0, mem_limit_bytes=info.mem_limit_bytes, read_at=0.0) for info in running}

    def events(self) -> EventStream:
        stream = FakeEventStream()
        self.streams.append(stream)
        return stream

    def nodes(self) -> list[NodeInfo]:
        return list(self.node_list)

    def move(self, container_id: str) -> ContainerInfo:
        """To the first other node that is ready and takes apps, workers first (as Swarm's placement)."""
        with self._lock:
            info = self._find(container_id)
            candidates = sorted(self.node_list, key=lambda n: n.role == "manager")
            target = next((n for n in candidates if n.ready and n.available and n.hostname != info.node), None)
            if target is None:
                raise EngineError("No Swarm node is ready to take an app.")
            info = self.containers[info.id] = replace(info, node=target.hostname, state="running")
        self._announce(info, "start", "running")
        return info


class AddresslessRuntime(FakeRuntime):
    """Containers without an address the panel can reach (the panel in compose): one answers by
    staying up (`image_check.STAYS_UP_S`, which tests set to 0)."""

    def create(self, spec: ContainerSpec) -> ContainerInfo:
        info = replace(super().create(spec), address=None)
        self.containers[info.id] = info
        return info


class SlowRuntime(FakeRuntime):
    """`create` announces itself on `creating`, then waits for the test to set `release`."""

    def __init__(self):
        super().__init__()
        self.creating = threading.Event()
        self.release = threading.Event()

    def create(self, spec: ContainerSpec) -> ContainerInfo:
        self.creating.set()
        if not self.release.wait(WAIT_LIMIT_S):
            raise EngineError("SlowRuntime was never released")
        return super().create(spec)


class FailingRuntime(FakeRuntime):
    """`create` fails the way an engine does when it cannot create the container."""

    MESSAGE = "The image is not on the engine: no such image"

    def create(self, spec: ContainerSpec) -> ContainerInfo:
        raise EngineError(self.MESSAGE)
