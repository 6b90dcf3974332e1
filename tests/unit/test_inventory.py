"""The collector's inventory with the in-memory engine: kept by events, listed only when it cannot be trusted."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from devtools.events import eventually, following
from saas_panel.runtime.base import ContainerEvent, ContainerInfo
from saas_panel.services import provisioning
from saas_panel.services.monitor import Collector
from tests.mocking import FakeRuntime


@pytest.fixture
def fake(make_user, monkeypatch) -> FakeRuntime:
    """An engine with alice's app, provisioned through the panel."""
    monkeypatch.setenv("SAAS_PANEL_BCRYPT_ROUNDS", "4")
    monkeypatch.setattr(provisioning, "EVENT_TRAIL_S", 0.0)
    make_user("alice")
    engine = FakeRuntime()
    provisioning.provision("alice", runtime=engine)
    return engine


def applied(collector: Collector, events: int) -> None:
    eventually(lambda: collector.inventory.events >= events, f"{events} events applied")


def run_outside(engine: FakeRuntime, name: str) -> ContainerInfo:
    """A managed container somebody made with the CLI: the panel has no row for it."""
    spec = provisioning.container_spec(name, name, engine.list_images()[0], 64, 0.5)
    return engine.create(spec)


def test_while_events_are_followed_a_sweep_asks_the_engine_nothing(fake):
    collector = Collector(fake)
    with following(collector):
        first = collector.sweep()
        for _ in range(3):
            assert collector.sweep().by_state == first.by_state == {"running": 1}
    assert fake.list_calls == 1  # the one list after the stream opened


def test_changes_behind_the_panels_back_show_in_the_sweep_after_their_event(fake):
    collector = Collector(fake)
    with following(collector) as changes:
        collector.sweep()
        outside = run_outside(fake, "outsider")
        applied(collector, 1)
        assert collector.sweep().orphans == ["outsider"]

        fake.crash(provisioning.container_name("alice"))
        applied(collector, 2)
        snapshot = collector.sweep()
        assert [usage.name for usage in snapshot.containers] == ["outsider"]
        assert snapshot.by_state == {"stopped": 1}
        assert changes == [("alice", "stopped")]  # the event itself moved the row

        fake.vanish(outside.name)
        applied(collector, 3)
        assert collector.sweep().orphans == []
    assert fake.list_calls == 1


def test_without_a_stream_every_sweep_lists_and_a_new_stream_starts_with_a_list(fake):
    collector = Collector(fake)
    with following(collector):
        collector.sweep()
        fake.break_streams()
        eventually(lambda: not collector.inventory.following, "the stream to end")
    fake.crash(provisioning.container_name("alice"))  # no stream open: nobody hears of it
    assert collector.sweep().by_state == {"stopped": 1}
    collector.sweep()
    assert fake.list_calls == 3
    with following(collector):
        collector.sweep()
        collector.sweep()
    assert fake.list_calls == 4


def test_a_reconciliation_list_catches_what_no_event_told(fake):
    collector = Collector(fake, reconcile_every=0.05)
    with following(collector):
        collector.sweep()
        [info] = fake.containers.values()
        fake.containers[info.id] = replace(info, state="exited")  # changed without an event
        assert collector.sweep().by_state == {"running": 1}  # the inventory believes the events
        time.sleep(0.06)
        assert collector.sweep().by_state == {"stopped": 1}
    assert fake.list_calls == 2


class ListedBeforeADeath(FakeRuntime):
    """Its list answers with what was there before an event that is applied while the list is on its way."""

    collector: Collector | None = None

    def list_managed(self) -> list[ContainerInfo]:
        listed = super().list_managed()
        if self.collector is not None and self.collector.inventory.following:
            [info] = listed
            self.containers[info.id] = replace(info, state="exited")
            self.collector.inventory.apply(ContainerEvent(info.id, info.name, "die", info.owner, "stopped"))
        return listed


def test_an_event_applied_during_a_list_wins_over_the_list(make_user, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_BCRYPT_ROUNDS", "4")
    make_user("alice")
    engine = ListedBeforeADeath()
    provisioning.provision("alice", runtime=engine)
    engine.collector = collector = Collector(engine)
    with following(collector):
        assert collector.sweep(store=False).containers == []  # alice died while she was being listed as running
        assert [info.state for info in collector.inventory.containers()] == ["exited"]
