"""The collector's loop: when the one collector of a deployment works, and where its results go.

Every backend worker runs the loop, but only the worker holding the collector
lease works; the others try to take the lease every interval. The holder
follows the engine's events (a container stopped anywhere shows within a
second, and the sweeps ask the engine nothing but a reconciliation list now
and then: services/inventory.py), sweeps every SAAS_PANEL_METRICS_INTERVAL
(usage, reconciliation, the platform's series and, on an engine of several
hosts, its nodes), measures
every user's storage every SAAS_PANEL_STORAGE_CHECK_SECONDS and reopens the
event stream whenever the engine comes back. Results go to a `Publisher`; this module knows nothing about pages.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from datetime import timedelta
from typing import Protocol

from saas_panel.config import get_settings
from saas_panel.errors import EngineUnavailable
from saas_panel.runtime import get_runtime
from saas_panel.services import alerts, coordination, counters, metrics, relocation, storage, webhooks
from saas_panel.services.monitor import Collector, ContainerUsage, Snapshot

log = logging.getLogger(__name__)

PLATFORM_WINDOW = timedelta(hours=1)
EVENT_RETRY_S = 1.0
LEASE_MIN_TTL_S = 10.0


class Publisher(Protocol):
    """Shows the collector's results; `snapshot` None means the engine is unreachable."""

    async def platform(self, snapshot: Snapshot | None, series: list[metrics.Point]) -> None:
        """After every sweep: the deployment's numbers and its usage over PLATFORM_WINDOW."""

    async def usage(self, username: str, snapshot: Snapshot | None, mine: ContainerUsage | None) -> None:
        """After every sweep, for each watching user: their running container's usage, if any."""

    async def status(self, username: str, status: str) -> None:
        """A watching user's container changed state (an engine event, or a sweep saw it)."""

    async def node(self, username: str, down: bool) -> None:
        """The node a watching user's app is on went down (`down`) or came back."""


@functools.cache
def watchers() -> coordination.Watchers:
    """Users with a dashboard open, the only ones sent per-user results (shared between workers when Redis is configured)."""
    return coordination.dashboard_watchers()


class CollectorLoop:
    def __init__(
        self,
        collector: Collector,
        publisher: Publisher,
        lease: coordination.Lease,
        watching: coordination.Watchers,
        interval: float,
        storage_interval: float | None = None,  # None: storage is not measured
    ):
        self.collector = collector
        self.publisher = publisher
        self.lease = lease
        self.watching = watching
        self.interval = interval
        self.storage_interval = storage_interval
        self._storage_sweep: asyncio.Task | None = None
        self._relocation: asyncio.Task | None = None
        self._storage_due = 0.0  # monotonic
        self._alerts: alerts.Evaluator | None = None  # made when the lease is taken, from the firing alerts stored
        self._deliveries: asyncio.Task | None = None

    @classmethod
    def for_deployment(cls, publisher: Publisher) -> CollectorLoop:
        settings = get_settings()
        interval = settings.metrics_interval
        lease = coordination.collector_lease(ttl_s=max(LEASE_MIN_TTL_S, 3 * interval))
        return cls(Collector(get_runtime()), publisher, lease, watchers(), interval, settings.storage_check_seconds)

    async def run(self) -> None:
        """Until cancelled: take or renew the lease, and while holding it follow events and sweep."""
        events: asyncio.Task | None = None
        try:
            while True:
                try:
                    leader = await asyncio.to_thread(self.lease.acquire_or_renew)
                except Exception:  # noqa: BLE001 - Redis down: nobody can hold the lease
                    log.exception("collector lease unavailable")
                    leader = False
                if leader and events is None:
                    log.info("collector lease taken by %s", self.lease.holder)
                    events = asyncio.create_task(self._follow_events())
                elif not leader and events is not None:
                    events.cancel()
                    events = None
                    self._alerts = None  # another worker evaluates now
                if leader:
                    self._measure_storage_when_due()
                    snapshot = await self._sweep_and_publish()
                    self._relocate_when_needed(snapshot)
                await asyncio.sleep(self.interval)
        finally:
            for task in (events, self._storage_sweep, self._relocation, self._deliveries):
                if task is not None:
                    task.cancel()
            await asyncio.to_thread(self.lease.release)

    def _measure_storage_when_due(self) -> None:
        """Start a storage sweep beside the loop (measuring many volumes may outlast the lease),
        at most one at a time."""
        if self.storage_interval is None or time.monotonic() < self._storage_due:
            return
        if self._storage_sweep is None or self._storage_sweep.done():
            self._storage_due = time.monotonic() + self.storage_interval
            self._storage_sweep = asyncio.create_task(self._measure_storage())

    async def _measure_storage(self) -> None:
        try:
            result = await asyncio.to_thread(storage.sweep, self.collector.runtime)
        except Exception:  # noqa: BLE001 - a failed measure waits for the next one; the collector goes on
            log.exception("storage sweep failed")
            return
        if result.warned or result.stopped:
            log.info("storage: %d measured, warned %s, stopped %s", result.measured, result.warned, result.stopped)

    def _relocate_when_needed(self, snapshot: Snapshot | None) -> None:
        """Move apps off drained nodes beside the loop (copying files takes a while), one run at a time."""
        if snapshot is None or not relocation.needed(snapshot.nodes):
            return
        if self._relocation is None or self._relocation.done():
            self._relocation = asyncio.create_task(self._relocate())

    async def _relocate(self) -> None:
        try:
            moved = await asyncio.to_thread(relocation.relocate_drained, self.collector.runtime)
        except Exception:  # noqa: BLE001 - the next sweep tries again; the collector goes on
            log.exception("moving apps off drained nodes failed")
            return
        if moved:
            log.info("moved off drained nodes: %s", [owner for owner, _ in moved])
        # A late event from an app's old node (its stop, after the new node's start) may have told the
        # dashboard "stopped": the move's own result is the last word.
        for owner, state in moved:
            await self._publish_status(owner, state)

    async def _follow_events(self) -> None:
        """Apply engine events as they come (in a thread: `Collector.follow`) and publish the changes,
        reconnecting after outages."""
        loop = asyncio.get_running_loop()
        while True:
            queue: asyncio.Queue = asyncio.Queue()
            try:
                stream = await asyncio.to_thread(self.collector.runtime.events)
            except EngineUnavailable:
                await asyncio.sleep(EVENT_RETRY_S)
                continue

            def pump() -> None:
                try:
                    for change in self.collector.follow(stream):
                        loop.call_soon_threadsafe(queue.put_nowait, change)
                except EngineUnavailable:
                    pass
                finally:
                    loop.call_soon_threadsafe(queue.put_nowait, None)

            reader = loop.run_in_executor(None, pump)
            try:
                while (change := await queue.get()) is not None:
                    await self._publish_status(*change)
            finally:
                stream.close()
                await reader
            await asyncio.sleep(EVENT_RETRY_S)

    async def _publish_status(self, owner: str, status: str) -> None:
        try:
            if owner in await asyncio.to_thread(self.watching.current):
                await self.publisher.status(owner, status)
        except Exception:  # noqa: BLE001 - a change Redis or the page could not take must not end the stream
            log.exception("publishing %s's new state failed", owner)

    async def _check_alerts(self, snapshot: Snapshot) -> None:
        """Evaluate the alert rules on this sweep (queuing their webhooks), then send the webhooks
        that are due beside the loop (a slow receiver takes seconds), one run at a time."""
        try:
            if self._alerts is None:
                self._alerts = await asyncio.to_thread(alerts.Evaluator.from_database)
            await asyncio.to_thread(alerts.evaluate_sweep, self._alerts, snapshot)
        except Exception:  # noqa: BLE001 - the next sweep evaluates again; the collector goes on
            log.exception("alert evaluation failed")
            self._alerts = None  # its memory may be ahead of what was stored: reload it next time
        if self._deliveries is None or self._deliveries.done():
            self._deliveries = asyncio.create_task(self._deliver_webhooks())

    async def _deliver_webhooks(self) -> None:
        try:
            await asyncio.to_thread(webhooks.deliver_due)
        except Exception:  # noqa: BLE001 - what is still due is tried at the next sweep
            log.exception("webhook delivery failed")

    def _timed_sweep(self) -> Snapshot:
        """A sweep, its duration and end recorded for /metrics (any worker answers a scrape)."""
        started = time.monotonic()
        snapshot = self.collector.sweep()
        counters.set_gauge({counters.SWEEP_SECONDS: time.monotonic() - started, counters.LAST_SWEEP_AT: time.time()})
        return snapshot

    async def _sweep_and_publish(self) -> Snapshot | None:
        try:
            snapshot = await asyncio.to_thread(self._timed_sweep)
            series = await asyncio.to_thread(metrics.platform_series, PLATFORM_WINDOW)
        except EngineUnavailable:
            snapshot, series = None, []
        except Exception:  # noqa: BLE001 - the collector must survive anything one sweep hits
            log.exception("collector sweep failed")
            snapshot, series = None, []
        if snapshot is not None:
            await self._check_alerts(snapshot)
        try:
            await self.publisher.platform(snapshot, series)
            watching = await asyncio.to_thread(self.watching.current)
            usage = {c.owner: c for c in snapshot.containers} if snapshot else {}
            for username in watching:
                await self.publisher.usage(username, snapshot, usage.get(username))
                # Writing a room need not suspend, and the room's tabs are sent their copy by
                # tasks of their own: give them (and every other event) their turn after each
                # user, not after every user's room.
                await asyncio.sleep(0)
            for owner, status in snapshot.changed if snapshot else []:
                if owner in watching:
                    await self.publisher.status(owner, status)
            for change in snapshot.node_changes if snapshot else []:
                for owner in change.owners:
                    if owner in watching:
                        await self.publisher.node(owner, change.down)
        except Exception:  # noqa: BLE001
            log.exception("publishing live data failed")
        return snapshot
