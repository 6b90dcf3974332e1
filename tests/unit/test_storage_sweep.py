"""The storage sweep: usage stored, the 90 % warning once per crossing, the quota kept where the engine cannot."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
from sqlmodel import select

from saas_panel import runtime
from saas_panel.db import session_scope
from saas_panel.errors import EngineError, EngineUnavailable, StorageFull
from saas_panel.models import ActivityLog, User
from saas_panel.services import auth, provisioning, storage
from saas_panel.services.collector_loop import CollectorLoop
from saas_panel.services.coordination import LocalLease, LocalWatchers
from saas_panel.services.monitor import Collector
from saas_panel.state.dashboard import DashboardState
from tests.handlers import call, state_with_token
from tests.integration.recording_publisher import RecordingPublisher, running, until
from tests.mocking import FakeRuntime

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=timezone.utc)
MB = 1024 * 1024
QUOTA_MB = 1024  # the default plan's storage (SAAS_PANEL_DEFAULT_STORAGE_MB)


class CannotMeasure(FakeRuntime):
    """An engine that is down, or busy measuring for another caller (Docker measures for one at a time)."""

    error: Exception = EngineUnavailable("The container engine is not reachable.")

    def volume_usage(self, volumes):
        raise self.error


def engine(monkeypatch, runtime_cls: type[FakeRuntime] = FakeRuntime, *, enforced: bool) -> FakeRuntime:
    """The runtime every service gets from now on; `enforced`: whether it caps each volume itself."""
    fake = runtime_cls(storage_enforced=enforced)
    monkeypatch.setattr(runtime, "_shared", fake)
    return fake


@pytest.fixture
def fake(monkeypatch) -> FakeRuntime:
    """An engine that only measures: the panel keeps the quotas."""
    return engine(monkeypatch, enforced=False)


@pytest.fixture
def app_of(make_user, monkeypatch):
    """A user with a running container; returns the user."""
    monkeypatch.setenv("SAAS_PANEL_BCRYPT_ROUNDS", "4")

    def _make(username: str) -> User:
        user = make_user(username)
        provisioning.provision(username)
        return user

    return _make


def uses(fake: FakeRuntime, user: User, mb: float) -> None:
    fake.volume_bytes[provisioning.data_volume(user).name] = int(mb * MB)


def stored(username: str) -> User:
    with session_scope() as session:
        return session.exec(select(User).where(User.username == username)).one()


def logged(action: str, target: str) -> list[ActivityLog]:
    with session_scope() as session:
        return list(session.exec(select(ActivityLog).where(ActivityLog.action == action, ActivityLog.target == target).order_by(ActivityLog.id)).all())


def test_the_dashboard_shows_the_plan_and_warns_at_90_percent(app_of, fake):
    alice = app_of("alice")
    _, token = auth.login("alice", "correct horse")
    state = state_with_token(DashboardState, token)
    call(state, DashboardState.event_handlers["refresh"])
    assert state.plan["storage"] == f"{QUOTA_MB} MB" and not state.storage_measured and not state.storage_nearly_full

    uses(fake, alice, 930)
    storage.sweep()
    call(state, DashboardState.event_handlers["refresh"])
    assert (state.plan["used"], state.storage_percent, state.storage_nearly_full) == ("930 of 1024 MB", 90, True)


def test_the_usage_of_every_volume_is_stored(app_of, fake):
    alice, bob = app_of("alice"), app_of("bob")
    uses(fake, alice, 100)
    uses(fake, bob, 0.5)
    result = storage.sweep(fake, NOW)
    assert result == storage.SweepResult(measured=2)
    assert (stored("alice").storage_used_bytes, stored("bob").storage_used_bytes) == (100 * MB, MB // 2)
    assert stored("alice").storage_measured_at.replace(tzinfo=timezone.utc) == NOW
    assert storage.usage_of("alice") == storage.Usage(100 * MB, QUOTA_MB, stored("alice").storage_measured_at)


def test_the_warning_is_written_once_per_crossing_of_90_percent(app_of, fake):
    alice = app_of("alice")
    uses(fake, alice, 930)
    assert storage.sweep(fake, NOW).warned == ["alice"]
    assert storage.sweep(fake, NOW).warned == []  # still above: no second row
    [warning] = logged("storage_warning", "alice")
    assert (warning.actor, warning.details) == ("system", "930 of 1024 MB used (90 %)")
    assert stored("alice").storage_warned

    uses(fake, alice, 900)
    storage.sweep(fake, NOW)
    assert not stored("alice").storage_warned
    uses(fake, alice, 1000)
    assert storage.sweep(fake, NOW).warned == ["alice"]
    assert len(logged("storage_warning", "alice")) == 2


def test_without_enforcement_the_app_at_its_quota_is_stopped_and_stays_stopped(app_of, fake):
    alice, bob = app_of("alice"), app_of("bob")
    uses(fake, alice, QUOTA_MB)
    uses(fake, bob, QUOTA_MB - 1)

    result = storage.sweep(fake, NOW)
    assert result.stopped == ["alice"] and result.warned == ["alice", "bob"]
    assert provisioning.status("alice").state == "stopped"
    assert provisioning.status("bob").state == "running"
    [full] = logged("storage_full", "alice")
    assert full.actor == "system" and "1024 of 1024 MB used (100 %)" in full.details

    with pytest.raises(StorageFull, match="1024 of 1024 MB used"):
        provisioning.user_control(auth.authenticate("alice", "correct horse"), "start")
    assert provisioning.status("alice").state == "stopped"
    assert storage.sweep(fake, NOW).stopped == []  # a stopped app is not stopped again

    uses(fake, alice, 10)  # files removed (here: by hand)
    storage.sweep(fake, NOW)
    assert provisioning.control("alice", "start", actor="alice").state == "running"


def test_removing_the_files_lets_the_app_start_again(app_of, fake):
    alice = app_of("alice")
    uses(fake, alice, 2 * QUOTA_MB)
    storage.sweep(fake, NOW)
    provisioning.remove_data("alice", actor="alice")
    assert stored("alice").storage_used_bytes is None
    assert provisioning.control("alice", "start", actor="alice").state == "running"


def test_an_enforcing_engine_keeps_the_app_running(app_of, monkeypatch):
    fake = engine(monkeypatch, enforced=True)
    alice = app_of("alice")
    uses(fake, alice, QUOTA_MB)
    assert storage.sweep(fake, NOW).stopped == []
    assert provisioning.control("alice", "restart", actor="alice").state == "running"
    assert logged("storage_full", "alice") == []


def test_a_volume_missing_on_the_engine_is_skipped(app_of, fake):
    alice, bob = app_of("alice"), app_of("bob")
    uses(fake, alice, 5)
    uses(fake, bob, 7)
    storage.sweep(fake, NOW)
    fake.volumes.pop(provisioning.data_volume(bob).name)
    fake.volume_bytes.pop(provisioning.data_volume(bob).name)
    uses(fake, alice, 6)
    assert storage.sweep(fake, NOW).measured == 1
    assert (stored("alice").storage_used_bytes, stored("bob").storage_used_bytes) == (6 * MB, 7 * MB)


@pytest.mark.parametrize("error", [CannotMeasure.error, EngineError("a disk usage operation is already running")], ids=["down", "busy"])
def test_an_engine_that_cannot_measure_changes_nothing(app_of, monkeypatch, error):
    down = engine(monkeypatch, CannotMeasure, enforced=False)
    down.error = error
    alice = app_of("alice")
    uses(down, alice, 2 * QUOTA_MB)
    assert storage.sweep(down, NOW) == storage.SweepResult()
    assert stored("alice").storage_measured_at is None
    assert provisioning.status("alice").state == "running"


class LeaseOfAnotherWorker:
    def __init__(self) -> None:
        self.tries = 0

    def acquire_or_renew(self) -> bool:
        self.tries += 1
        return False

    def release(self) -> None:
        pass


def test_only_the_collector_lease_holder_measures_storage(app_of, fake):
    uses(fake, app_of("alice"), 3)
    lease = LeaseOfAnotherWorker()
    loop = CollectorLoop(Collector(fake), RecordingPublisher(), lease, LocalWatchers(), interval=0.02, storage_interval=0.02)

    async def scenario() -> None:
        async with running(loop):
            await until(lambda: lease.tries >= 5, "the loop to try the lease")

    asyncio.run(scenario())
    assert stored("alice").storage_measured_at is None


def test_the_collector_measures_storage_and_survives_a_failing_measure(app_of, fake, monkeypatch):
    alice = app_of("alice")
    uses(fake, alice, 3)
    failures = []
    real_sweep = storage.sweep

    def failing_once(runtime):
        if not failures:
            failures.append(runtime)
            raise RuntimeError("database away")
        return real_sweep(runtime)

    monkeypatch.setattr(storage, "sweep", failing_once)
    publisher = RecordingPublisher()
    loop = CollectorLoop(Collector(fake), publisher, LocalLease(), LocalWatchers(), interval=0.05, storage_interval=0.05)

    async def scenario() -> None:
        async with running(loop):
            await until(lambda: stored("alice").storage_used_bytes == 3 * MB, "a measure after the failed one")
            sweeps_then = len(publisher.sweeps())
            # the collector went on sweeping (the storage measure runs beside the sweeps, not between them)
            await until(lambda: len(publisher.sweeps()) > sweeps_then, "a sweep after the failed measure")

    asyncio.run(scenario())
    assert failures == [fake]
