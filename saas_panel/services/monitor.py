"""The collector: follows the engine, keeps the DB in step with it, and samples usage.

One Collector runs per deployment. Each `sweep()` takes the managed containers from its
`Inventory` (no engine call while the collector follows the engine's events, one list call
otherwise), reads CPU and memory counters (cgroup files when the engine is local), computes
CPU% from its own deltas, reconciles the `containers` table with what the engine reports, and
stores a metrics row per running container. On an engine of several hosts it also records each
node's state (`nodes.sync`) and which node each container runs on. `follow()` applies engine
events as they come: to the inventory, and to the single row each is about.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import select

from saas_panel.config import get_settings
from saas_panel.db import session_scope
from saas_panel.errors import EngineError, EngineUnavailable
from saas_panel.models import Container, ContainerState, User, utcnow
from saas_panel.runtime import ContainerInfo, ContainerRuntime
from saas_panel.runtime.base import ContainerEvent, EventStream, UsageSample
from saas_panel.runtime.cgroups import cpu_percent
from saas_panel.services import activity, metrics, nodes
from saas_panel.services.inventory import Inventory
from saas_panel.services.provisioning import engine_state, panel_action_in_progress

log = logging.getLogger(__name__)

COMPACT_EVERY_S = 60


@dataclass(frozen=True)
class ContainerUsage:
    name: str
    owner: str | None
    state: str
    cpu_percent: float
    mem_bytes: int
    mem_limit_bytes: int | None


@dataclass(frozen=True)
class Snapshot:
    at: datetime
    containers: list[ContainerUsage]
    by_state: dict[str, int]
    orphans: list[str] = field(default_factory=list)
    changed: list[tuple[str, str]] = field(default_factory=list)  # (owner, new state) this sweep
    nodes: list[nodes.NodeRow] = field(default_factory=list)  # empty on a single-host engine
    node_changes: list[nodes.NodeChange] = field(default_factory=list)  # nodes that went down or came back this sweep

    @property
    def cpu_percent(self) -> float:
        return round(sum(c.cpu_percent for c in self.containers), 2)

    @property
    def mem_bytes(self) -> int:
        return sum(c.mem_bytes for c in self.containers)

    def top(self, n: int = 5) -> list[ContainerUsage]:
        return sorted(self.containers, key=lambda c: (c.cpu_percent, c.mem_bytes), reverse=True)[:n]


class Collector:
    def __init__(self, runtime: ContainerRuntime, reconcile_every: float | None = None):
        """`reconcile_every`: seconds between full lists while following events (default: the setting)."""
        self.runtime = runtime
        self.inventory = Inventory(runtime, reconcile_every or get_settings().inventory_reconcile_seconds)
        self._previous: dict[str, UsageSample] = {}
        self._last_compact = 0.0

    def sweep(self, store: bool = True) -> Snapshot:
        """One full refresh: engine state, usage, reconciliation and (if `store`) metrics rows."""
        infos = self.inventory.containers()
        running = [info for info in infos if info.running]
        samples = self.runtime.usage([info.id for info in running])
        usage = []
        for info in running:
            sample = samples.get(info.id)
            if sample is None:
                continue
            usage.append(
                ContainerUsage(
                    name=info.name,
                    owner=info.owner,
                    state=ContainerState.RUNNING.value,
                    cpu_percent=cpu_percent(self._previous.get(info.id), sample),
                    mem_bytes=sample.mem_bytes,
                    mem_limit_bytes=sample.mem_limit_bytes,
                )
            )
        self._previous = samples
        if not store:
            return Snapshot(at=utcnow(), containers=usage, by_state={})
        changed, orphans, by_state, row_ids = self.reconcile(infos)
        metrics.record(
            [(row_ids[u.name], u.cpu_percent, u.mem_bytes, u.mem_limit_bytes) for u in usage if u.name in row_ids]
        )
        self._maybe_compact()
        node_rows, node_changes = self.sync_nodes()
        return Snapshot(at=utcnow(), containers=usage, by_state=by_state, orphans=orphans, changed=changed,
                        nodes=node_rows, node_changes=node_changes)

    def sync_nodes(self) -> tuple[list[nodes.NodeRow], list[nodes.NodeChange]]:
        """Record the engine's nodes (after `reconcile`, which places the containers on them);
        when the engine cannot list them now, the nodes as last recorded and no change."""
        try:
            infos = self.runtime.nodes()
        except (EngineUnavailable, EngineError) as exc:
            log.warning("nodes not listed: %s", exc)
            return nodes.overview(), []
        if not infos:
            return [], []
        changes = nodes.sync(infos)
        return nodes.overview(), changes

    def reconcile(self, infos: list[ContainerInfo]) -> tuple[list[tuple[str, str]], list[str], dict[str, int], dict[str, int]]:
        """Make every row agree with the engine; log what changed outside the panel.

        Returns (changed (owner, state) pairs, orphan container names, rows by state, row id by name).
        """
        by_name = {info.name: info for info in infos}
        now = utcnow()
        changed: list[tuple[str, str]] = []
        by_state: dict[str, int] = {}
        row_ids: dict[str, int] = {}
        with session_scope() as session:
            rows = session.exec(select(Container, User.username).join(User, User.id == Container.user_id, isouter=True)).all()
            for row, owner in rows:
                row_ids[row.name] = row.id
                info = by_name.get(row.name)
                if row.state == ContainerState.PROVISIONING.value or (row.state == ContainerState.ERROR.value and info is None):
                    by_state[row.state] = by_state.get(row.state, 0) + 1
                    continue
                new_state = engine_state(info)
                if new_state.value != row.state and not panel_action_in_progress(row.name):
                    activity.record(
                        activity.Action(f"container_{new_state.value}"),
                        actor=activity.SYSTEM_ACTOR,
                        target=owner or row.name,
                        details=f"engine reports {info.state if info else 'no such container'}",
                        session=session,
                    )
                    row.state = new_state.value
                    row.updated_at = now
                    if info is not None:
                        row.engine_id = info.id
                        row.host_port = info.host_port or row.host_port
                    changed.append((owner or row.name, row.state))
                if info is not None and info.node and row.node != info.node:
                    row.node = info.node  # kept when the engine no longer says (a lost node's apps stay marked)
                by_state[row.state] = by_state.get(row.state, 0) + 1
        orphans = sorted(name for name in by_name if name not in row_ids)
        return changed, orphans, by_state, row_ids

    def follow(self, stream: EventStream) -> Iterator[tuple[str, str]]:
        """Apply a just-opened stream's events as they come, yielding each (owner, new state) of a row
        (blocking: run it in a thread). While it runs, sweeps take the inventory instead of asking the engine."""
        self.inventory.stream_opened()
        told: dict[str, str] = {}  # owner -> the state last yielded: a die and its stop say it once
        try:
            for event in stream:
                try:
                    # The row first: the inventory's inspect of the container must not let a panel action's own
                    # row write (the idle culler's stop) land before the event's, or the dashboard is never told.
                    changed = self.apply_event(event)
                    self.inventory.apply(event)
                except Exception:  # noqa: BLE001 - one event the database could not take must not end the stream
                    log.exception("applying engine event %s failed", event.action)
                    continue
                if changed is not None and told.get(changed[0]) != changed[1]:
                    told[changed[0]] = changed[1]
                    yield changed
        finally:
            self.inventory.stream_ended()

    def apply_event(self, event: ContainerEvent) -> tuple[str, str] | None:
        """Update the one row an engine event is about; return (owner, its state) to tell watchers.

        A row already in the event's state is told too: a system action (a relocation, the idle
        culler, a quota stop) writes its row itself, possibly before its own event arrives, and
        publishes nothing, so without this the open dashboard would keep the state before it."""
        if event.state is None or not event.name:
            return None
        new_state = ContainerState(event.state)
        now = utcnow()
        with session_scope() as session:
            found = session.exec(
                select(Container, User.username).join(User, User.id == Container.user_id, isouter=True).where(Container.name == event.name)
            ).first()
            if found is None:
                return None
            row, owner = found
            if row.state == ContainerState.PROVISIONING.value:
                return None
            if row.state == new_state.value:
                return owner or row.name, row.state
            if not panel_action_in_progress(row.name):
                activity.record(
                    activity.Action(f"container_{new_state.value}"),
                    actor=activity.SYSTEM_ACTOR,
                    target=owner or row.name,
                    details=f"engine event: {event.action}",
                    session=session,
                )
            row.state = new_state.value
            row.updated_at = now
            if new_state == ContainerState.RUNNING:
                row.started_at = now
            return owner or row.name, row.state

    def _maybe_compact(self) -> None:
        if time.monotonic() - self._last_compact >= COMPACT_EVERY_S:
            metrics.compact()
            self._last_compact = time.monotonic()
