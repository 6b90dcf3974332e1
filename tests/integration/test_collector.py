"""The collector against the real engine: state follows the engine, usage is sampled."""

from __future__ import annotations

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
from saas_panel.services.monitor import Collector


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
    assert mine.cpu_percent >= 0
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
    assert Collector(get_runtime()).sweep(store=False).containers is not None
