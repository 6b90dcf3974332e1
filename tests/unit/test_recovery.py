"""Recovery's rules that need no engine: a failure leaves a state to retry from and spares the rest,
and the backend's start task waits for the engine. (Every fault point, on the real engine: tests/faults.)"""

from __future__ import annotations

import asyncio

from saas_panel.errors import EngineUnavailable
from saas_panel.models import ContainerState
from saas_panel.services import provisioning, recovery
from saas_panel.services.coordination import LocalLease
from saas_panel.state import background
from tests.mocking import FailingRuntime, FakeRuntime


def left_provisioning(username: str) -> None:
    """A row in `provisioning` with nothing in the engine: what a process killed after step 1 leaves."""
    provisioning._claim_row(username)


def test_a_provision_that_fails_again_leaves_an_error_to_retry_from_and_spares_the_others(make_user):
    for name in ("alice", "bob"):
        make_user(name)
        left_provisioning(name)

    report = recovery.recover(FailingRuntime())

    assert report.provisioned == [] and [who for who, _ in report.failed] == ["alice", "bob"]
    assert {provisioning.status(name, FailingRuntime()).state for name in ("alice", "bob")} == {ContainerState.ERROR.value}
    assert provisioning.provision("alice", runtime=FakeRuntime()).state == ContainerState.RUNNING.value  # the retry


def test_the_start_task_waits_for_the_engine_then_recovers_once(db, monkeypatch):
    calls = []

    def recover():
        calls.append("called")
        if len(calls) < 3:
            raise EngineUnavailable("the engine is starting")
        return recovery.Recovery()

    monkeypatch.setattr(recovery, "recover", recover)
    monkeypatch.setattr(background, "RECOVERY_RETRY_S", 0.01)
    monkeypatch.setattr(background.coordination, "collector_lease", lambda **_: LocalLease())

    asyncio.run(asyncio.wait_for(background.recovering(), timeout=30))

    assert len(calls) == 3
