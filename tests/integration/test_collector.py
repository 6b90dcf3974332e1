"""The collector against the real engine: state follows the engine, usage is sampled."""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time

import docker
import pytest
from sqlmodel import select

from saas_panel.db import session_scope
from saas_panel.errors import EngineUnavailable
from saas_panel.models import ActivityLog, Metric
from saas_panel.runtime import get_runtime
from saas_panel.runtime.docker_runtime import DockerRuntime
from saas_panel.services import provisioning
from saas_panel.services.collector_loop import CollectorLoop
from saas_panel.services.coordination import LocalLease, LocalWatchers
from saas_panel.services.monitor import Collector
from tests.integration.recording_publisher import RecordingPublisher, running, until

SWEEP_ONCE_S = 3600.0  # only the loop's first sweep happens in a test: what follows comes from events


@pytest.fixture
def settled(monkeypatch):
    """Forget the panel's own recent actions at once, so engine changes count as external."""
    monkeypatch.setattr(provisioning, "EVENT_TRAIL_S", 0.0)


def test_sweep_samples_running_containers_and_stores_metrics(engine, make_user):
    make_user("alice")
    provisioning.provision("alice")
    collector = Collector(get_runtime())
    collector.sweep()
    time.sleep(0.3)
    snapshot = collector.sweep()
    [mine] = [c for c in snapshot.containers if c.owner == "alice"]
    assert 1_000_000 < mine.mem_bytes < 64 * 1024 * 1024
    assert mine.mem_limit_bytes == 128 * 1024 * 1024
    assert 0 <= mine.cpu_percent <= 100  # percent of one core; the container may use half of one
    assert snapshot.by_state.get("running", 0) >= 1
    with session_scope() as session:
        assert len(session.exec(select(Metric)).all()) == 2


def test_container_stopped_with_the_cli_shows_stopped(engine, make_user, settled):
    make_user("bob")
    view = provisioning.provision("bob")
    subprocess.run(["docker", "stop", "-t", "1", view.name], check=True, capture_output=True)
    snapshot = Collector(get_runtime()).sweep()
    assert ("bob", "stopped") in snapshot.changed
    assert provisioning.status("bob").state == "stopped"
    with session_scope() as session:
        logged = session.exec(select(ActivityLog).where(ActivityLog.target == "bob", ActivityLog.actor == "system")).all()
    assert [row.action for row in logged] == ["container_stopped"]


def test_removed_outside_is_missing_and_unmanaged_rows_are_reported(engine, make_user, docker_client, settled):
    make_user("carol")
    view = provisioning.provision("carol")
    docker_client.containers.get(view.name).remove(force=True)
    orphan = docker_client.containers.create(
        "saas-panel/user-dashboard:latest", name=f"{engine}orphan", labels={"saas-panel.managed": "true"}
    )
    snapshot = Collector(get_runtime()).sweep()
    assert ("carol", "missing") in snapshot.changed
    assert orphan.name in snapshot.orphans


def test_engine_events_update_the_row_within_a_second(engine, make_user, settled):
    make_user("dave")
    view = provisioning.provision("dave")
    runtime = get_runtime()
    collector = Collector(runtime)
    stream = runtime.events()
    changes: list = []

    def follow():
        for event in stream:
            change = collector.apply_event(event)
            if change:
                changes.append((time.monotonic(), change))

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    time.sleep(0.2)
    stopped_at = time.monotonic()
    subprocess.run(["docker", "kill", view.name], check=True, capture_output=True)
    deadline = time.monotonic() + 5
    while not changes and time.monotonic() < deadline:
        time.sleep(0.02)
    stream.close()
    assert changes, "no event reached the collector"
    seen_at, change = changes[0]
    print(f"event applied {seen_at - stopped_at:.3f}s after docker kill started")
    assert change == ("dave", "stopped")
    assert provisioning.status("dave").state == "stopped"


def test_engine_unreachable_then_back():
    dead = DockerRuntime(client=docker.DockerClient(base_url="unix:///nonexistent/docker.sock", version="1.41", timeout=2))
    with pytest.raises(EngineUnavailable):
        Collector(dead).sweep(store=False)
    with pytest.raises(EngineUnavailable):
        iter(dead.events()).__next__()
    Collector(get_runtime()).sweep(store=False)  # the real engine answers: no EngineUnavailable


def _loop_watched_by(username: str, publisher: RecordingPublisher) -> CollectorLoop:
    """A loop on the real engine whose only watcher is `username`, sweeping once in a test's time."""
    watching = LocalWatchers()
    watching.add(username)
    return CollectorLoop(Collector(get_runtime()), publisher, LocalLease(), watching, SWEEP_ONCE_S)


async def _first_sweep(publisher: RecordingPublisher) -> None:
    await until(lambda: publisher.published("usage"), "the first sweep")
    await asyncio.sleep(0.2)  # the event stream opens alongside the first sweep


def test_the_loop_publishes_sweeps_and_events_to_watching_users_only(engine, make_user):
    make_user("erin")
    make_user("frank")
    erin, frank = provisioning.provision("erin"), provisioning.provision("frank")
    publisher = RecordingPublisher()
    loop = _loop_watched_by("erin", publisher)

    async def scenario() -> None:
        async with running(loop):
            await _first_sweep(publisher)
            for name in (frank.name, erin.name):
                await asyncio.to_thread(subprocess.run, ["docker", "kill", name], check=True, capture_output=True)
            await until(lambda: publisher.published("status"), "erin's stop")

    asyncio.run(scenario())
    [snapshot] = publisher.sweeps()
    assert snapshot.by_state == {"running": 2}
    [(username, swept, mine)] = publisher.published("usage")
    assert (username, swept, mine.owner) == ("erin", snapshot, "erin")
    assert publisher.published("status") == [("erin", "stopped")]
    assert provisioning.status("frank").state == "stopped"  # applied, but nobody was watching


class LeaseOfAnotherWorker:
    """The collector lease, held by another worker until `hand_over`."""

    holder = "this-worker"

    def __init__(self) -> None:
        self.ours = False
        self.tries = 0
        self.released = False

    def acquire_or_renew(self) -> bool:
        self.tries += 1
        return self.ours

    def release(self) -> None:
        self.released = True

    def hand_over(self) -> None:
        self.ours = True


def test_only_the_lease_holder_collects(engine):
    lease = LeaseOfAnotherWorker()
    publisher = RecordingPublisher()
    loop = CollectorLoop(Collector(get_runtime()), publisher, lease, LocalWatchers(), interval=0.05)

    async def scenario() -> None:
        async with running(loop):
            await until(lambda: lease.tries >= 3, "the loop to try the lease")
            assert publisher.calls == []
            lease.hand_over()
            await until(publisher.sweeps, "a sweep by the new holder")

    asyncio.run(scenario())
    assert lease.released


class PublisherFailingOnce(RecordingPublisher):
    """Its first status update fails (as when Redis or the database is away for a moment)."""

    failed = False

    async def status(self, username, status) -> None:
        if not self.failed:
            self.failed = True
            raise ConnectionError("redis away")
        await super().status(username, status)


def test_an_event_that_could_not_be_published_does_not_end_the_stream(engine, make_user):
    make_user("gina")
    gina = provisioning.provision("gina")
    publisher = PublisherFailingOnce()
    loop = _loop_watched_by("gina", publisher)

    async def scenario() -> None:
        async with running(loop):
            await _first_sweep(publisher)
            await asyncio.to_thread(subprocess.run, ["docker", "kill", gina.name], check=True, capture_output=True)
            await until(lambda: publisher.failed, "the failed update")
            await asyncio.to_thread(subprocess.run, ["docker", "start", gina.name], check=True, capture_output=True)
            await until(lambda: publisher.published("status"), "the next event")

    asyncio.run(scenario())
    assert publisher.published("status") == [("gina", "running")]
