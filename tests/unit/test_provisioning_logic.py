"""Provisioning and control logic on the real database, with an in-memory engine (tests/mocking.py).

What the engine itself does to a container is tested on the real engine in tests/integration/.
"""

from __future__ import annotations

import threading

import pytest
from sqlmodel import select

from saas_panel.db import session_scope
from saas_panel.errors import EngineError, NotFound, ValidationError
from saas_panel.models import ActivityLog, Container
from saas_panel.runtime.base import ContainerEvent
from saas_panel.services import auth, containers, provisioning, users
from saas_panel.services.monitor import Collector
from tests.mocking import FailingRuntime, FakeRuntime, SlowRuntime

WAIT_S = 30  # only a bound on a hung test, never a timing assertion


@pytest.fixture
def alice(make_user, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_BCRYPT_ROUNDS", "4")
    make_user("alice", "password one")
    return "alice"


@pytest.fixture
def no_event_trail(monkeypatch):
    """The collector ignores a container for EVENT_TRAIL_S after the panel acted on it (real engine
    events trail the call); the fake engine sends none, so the window closes when the action ends."""
    monkeypatch.setattr(provisioning, "EVENT_TRAIL_S", 0.0)


def _row(username: str) -> Container:
    with session_scope() as session:
        return session.exec(select(Container).where(Container.name == provisioning.container_name(username))).one()


def _log(action: str) -> list[ActivityLog]:
    with session_scope() as session:
        return list(session.exec(select(ActivityLog).where(ActivityLog.action == action).order_by(ActivityLog.id)).all())


def test_a_slow_start_shows_provisioning_then_running(alice):
    runtime = SlowRuntime()
    provisioned = threading.Thread(target=provisioning.provision, args=(alice,), kwargs={"runtime": runtime})
    provisioned.start()
    try:
        assert runtime.creating.wait(WAIT_S)
        assert provisioning.status(alice, runtime).state == "provisioning"
    finally:
        runtime.release.set()
        provisioned.join(WAIT_S)
    view = provisioning.status(alice, runtime)
    assert view.state == "running"
    assert view.engine_id == runtime.inspect(view.name).id
    assert [entry.outcome for entry in _log("provision")] == ["success"]


def test_a_failing_start_leaves_an_error_row_and_a_failure_entry(alice):
    runtime = FailingRuntime()
    with pytest.raises(EngineError):
        provisioning.provision(alice, runtime=runtime)
    row = _row(alice)
    assert (row.state, row.error) == ("error", FailingRuntime.MESSAGE)
    [entry] = _log("provision")
    assert (entry.actor, entry.target, entry.outcome, entry.details) == (alice, alice, "failure", FailingRuntime.MESSAGE)
    assert provisioning.status(alice, runtime).state == "error"  # no container to contradict the row


def test_a_vanished_container_becomes_missing_and_start_brings_a_new_one(alice):
    runtime = FakeRuntime()
    first = provisioning.provision(alice, runtime=runtime)
    runtime.vanish(first.name)
    assert provisioning.status(alice, runtime).state == "missing"
    with pytest.raises(NotFound):
        provisioning.control(alice, "stop", actor=alice, runtime=runtime)
    again = provisioning.control(alice, "start", actor=alice, runtime=runtime)
    assert again.state == "running" and again.engine_id != first.engine_id


def test_the_collector_marks_a_vanished_container_missing_and_logs_it(alice, no_event_trail):
    runtime = FakeRuntime()
    view = provisioning.provision(alice, runtime=runtime)
    runtime.vanish(view.name)
    snapshot = Collector(runtime).sweep()
    assert snapshot.changed == [(alice, "missing")]
    assert _row(alice).state == "missing"
    [entry] = _log("container_missing")
    assert (entry.actor, entry.target, entry.details) == ("system", alice, "engine reports no such container")


def test_an_engine_event_moves_the_row_to_the_state_it_names(alice, no_event_trail):
    runtime = FakeRuntime()
    view = provisioning.provision(alice, runtime=runtime)
    collector = Collector(runtime)
    stopped = ContainerEvent(container_id=view.engine_id, name=view.name, action="die", owner=alice, state="stopped")
    assert collector.apply_event(stopped) == (alice, "stopped")
    no_change = ContainerEvent(container_id=view.engine_id, name=view.name, action="kill", owner=alice, state=None)
    assert collector.apply_event(no_change) is None
    assert _row(alice).state == "stopped"
    [entry] = _log("container_stopped")
    assert entry.details == "engine event: die"


def test_an_engine_event_for_a_row_already_in_its_state_is_told_but_not_logged_again(alice, no_event_trail):
    """A system action (relocation, idle culler) writes its row before its own event may arrive:
    the event must still reach the dashboard."""
    runtime = FakeRuntime()
    view = provisioning.provision(alice, runtime=runtime)
    collector = Collector(runtime)
    started = ContainerEvent(container_id=view.engine_id, name=view.name, action="start", owner=alice, state="running")
    assert _row(alice).state == "running"
    assert collector.apply_event(started) == (alice, "running")
    assert _log("container_running") == []


def test_following_events_tells_each_new_state_once(alice, no_event_trail):
    runtime = FakeRuntime()
    view = provisioning.provision(alice, runtime=runtime)
    event = lambda action, state: ContainerEvent(container_id=view.engine_id, name=view.name, action=action, owner=alice, state=state)  # noqa: E731
    stream = [event("kill", None), event("die", "stopped"), event("stop", "stopped"), event("start", "running")]
    assert list(Collector(runtime).follow(stream)) == [(alice, "stopped"), (alice, "running")]


@pytest.mark.parametrize("action", ["delete", "pause", ""])
def test_control_takes_only_start_stop_restart(alice, action):
    runtime = FakeRuntime()
    provisioning.provision(alice, runtime=runtime)
    with pytest.raises(ValidationError):
        provisioning.control(alice, action, actor=alice, runtime=runtime)
    assert len(runtime.containers) == 1 and _row(alice).state == "running"


def test_admin_actions_log_their_own_names(alice):
    users.ensure_admin("admin password")
    admin, _ = auth.login("admin", "admin password")
    runtime = FakeRuntime()
    row_id = provisioning.provision(alice, runtime=runtime).id
    containers.bulk(admin, [row_id], "restart", runtime=runtime)
    assert [entry.actor for entry in _log("restart")] == ["admin"]
    assert [entry.details for entry in _log("bulk_restart")] == ["1 done"]
    containers.act(admin, row_id, "delete", runtime=runtime)
    assert runtime.containers == {} and [entry.target for entry in _log("remove_container")] == [alice]
    with pytest.raises(ValidationError):
        containers.act(admin, row_id, "pause", runtime=runtime)
