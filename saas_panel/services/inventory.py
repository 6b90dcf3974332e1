"""The managed containers as the collector knows them: one full list, then the engine's events.

While the collector follows the engine's event stream, a sweep asks the engine nothing: it takes
this inventory, which is the one list taken after the stream opened, kept up to date event by
event (the container an event names is read again, or forgotten when the event says it is gone).
One full list every `reconcile_every` seconds catches anything the events did not tell. Without
a stream (before the first one opens, after one breaks, in a collector that follows none) there
is no other way to know, and every sweep lists.
"""

from __future__ import annotations

import logging
import threading
import time

from saas_panel.errors import ContainerNotFound, EngineError, EngineUnavailable
from saas_panel.runtime import ContainerInfo, ContainerRuntime
from saas_panel.runtime.base import MANAGED_LABEL, ContainerEvent

log = logging.getLogger(__name__)


class Inventory:
    def __init__(self, runtime: ContainerRuntime, reconcile_every: float):
        self.runtime = runtime
        self.reconcile_every = reconcile_every
        self._lock = threading.Lock()
        self._containers: dict[str, ContainerInfo] = {}  # by ContainerInfo.id
        self._stream: int | None = None  # the number of the stream being followed; None: none is
        self._streams_opened = 0
        self._listed_at: float | None = None  # monotonic, of the list taken while following `_stream`
        self._event_of: dict[str, int] = {}  # container id -> number of the last event applied to it since the last list
        self.events = 0  # events applied
        self.lists = 0  # full lists taken

    def stream_opened(self) -> None:
        """An event stream has just opened: from now on its events keep the inventory, after one full list
        (what happened before the stream opened reached no one)."""
        with self._lock:
            self._streams_opened += 1
            self._stream = self._streams_opened
            self._listed_at = None

    def stream_ended(self) -> None:
        """The stream ended: events may be missed until another opens, so sweeps list again."""
        with self._lock:
            self._stream = None
            self._listed_at = None

    @property
    def following(self) -> bool:
        """True while an event stream keeps the inventory."""
        with self._lock:
            return self._stream is not None

    @property
    def trusted(self) -> bool:
        """True when `containers()` can answer without asking the engine."""
        with self._lock:
            return self._trusted()

    def _trusted(self) -> bool:
        return self._stream is not None and self._listed_at is not None and time.monotonic() - self._listed_at < self.reconcile_every

    def containers(self) -> list[ContainerInfo]:
        """Every managed container: from the inventory while it is trusted, else from a full list."""
        with self._lock:
            if self._trusted():
                return list(self._containers.values())
        return self._list()

    def _list(self) -> list[ContainerInfo]:
        with self._lock:
            stream, events_before = self._stream, self.events
        listed = {info.id: info for info in self.runtime.list_managed()}
        with self._lock:
            self.lists += 1
            for container_id, event in self._event_of.items():
                if event > events_before:  # an event applied while the list was being taken is newer than the list
                    if container_id in self._containers:
                        listed[container_id] = self._containers[container_id]
                    else:
                        listed.pop(container_id, None)
            if self._stream is not None and self._stream == stream and self._listed_at is not None:
                self._log_drift(listed)
            self._containers = listed
            self._event_of.clear()
            if self._stream is not None and self._stream == stream:  # taken after the stream opened: events go on from here
                self._listed_at = time.monotonic()
            return list(listed.values())

    def _log_drift(self, listed: dict[str, ContainerInfo]) -> None:
        """A reconciliation list that differs from what the events made: say so (it should not happen)."""
        drifted = sorted(
            (new or old).name
            for cid in self._containers.keys() | listed.keys()
            for old, new in [(self._containers.get(cid), listed.get(cid))]
            if old is None or new is None or (old.name, old.state) != (new.name, new.state)
        )
        if drifted:
            log.warning("the reconciliation list differs from the events for %d containers: %s", len(drifted), drifted[:10])

    def apply(self, event: ContainerEvent) -> None:
        """Bring the container an event names up to date: forgotten when the event says it is gone,
        else read again from the engine (its name, state and port may all have changed)."""
        if not event.container_id:
            return
        info: ContainerInfo | None = None
        if event.state != "missing":
            try:
                info = self.runtime.inspect(event.container_id)
            except ContainerNotFound:
                info = None
            except (EngineUnavailable, EngineError) as exc:
                log.warning("container %s not read after its %s event: %s", event.name or event.container_id, event.action, exc)
                with self._lock:
                    self._listed_at = None  # the next sweep lists instead
                return
        with self._lock:
            self.events += 1
            self._event_of[event.container_id] = self.events
            if info is not None and info.labels.get(MANAGED_LABEL) == "true":
                self._containers[info.id] = info
            else:
                self._containers.pop(event.container_id, None)
