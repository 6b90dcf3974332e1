"""Finishing what a panel process left half done when it died (kill -9, the OOM killer, a power cut).

Each multi-step action writes, before its engine work, what a restart needs to finish or undo it:

- a container row in `provisioning` (provisioning, a committed plan change): provisioning is
  resumed; it is retry-safe, finding what the dead process made by the container's name. A plan
  change that committed but whose new container (`<name>-next`) has not taken the old one's place
  yet is finished first;
- an account with `deletion_started_at`: its deletion is finished;
- a container of this deployment (its name prefix, the panel's labels) without a row: the
  `-next` of a plan change that did not commit is removed (the app stays on its plan); a user's
  own container whose row is missing (a database restored from an older backup) is adopted; any
  other, whose owner is gone, is removed.

The backend runs `recover` once at each start, beside serving (one worker of a deployment at a
time, under a lease); everything it does is in the activity log with actor `system`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from sqlmodel import select

from saas_panel.config import get_settings
from saas_panel.db import session_scope
from saas_panel.errors import DomainError, EngineUnavailable
from saas_panel.models import Container, ContainerState, User
from saas_panel.runtime import ContainerInfo, ContainerRuntime, get_runtime
from saas_panel.services import activity, plan_change, plans, provisioning, users

log = logging.getLogger(__name__)
SYSTEM = activity.SYSTEM_ACTOR
LEASE_KEY = "saas-panel:recovery-lease"


@dataclass
class Recovery:
    """What one run finished or undid (usernames, or container names for removed containers)."""

    deleted: list[str] = field(default_factory=list)
    provisioned: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (user or container, why)

    @property
    def anything(self) -> bool:
        return bool(self.deleted or self.provisioned or self.adopted or self.removed or self.failed)


def recover(runtime: ContainerRuntime | None = None) -> Recovery:
    """One pass over everything left half done; EngineUnavailable when the engine cannot say."""
    runtime = runtime or get_runtime()
    report = Recovery()
    for username in users.half_deleted():
        _attempt(report, report.deleted, username, partial(users.finish_deletion, username, actor=SYSTEM))
    for username, name in _rows_in(ContainerState.PROVISIONING):
        _attempt(report, report.provisioned, username, partial(_resume_provisioning, runtime, username, name))
    _settle_unknown_containers(runtime, report)
    if report.anything:
        log.info("recovery: %s", report)
    return report


def _attempt(report: Recovery, done: list[str], subject: str, step: Callable[[], object]) -> None:
    """One item's recovery; a failure is recorded (the action itself logged it) and the rest go on."""
    try:
        step()
    except EngineUnavailable:
        raise
    except DomainError as exc:
        report.failed.append((subject, str(exc)))
        return
    done.append(subject)


def _rows_in(state: ContainerState) -> list[tuple[str, str]]:
    """(owner, container name) of the rows in `state` whose owner is not being deleted."""
    with session_scope() as session:
        return list(session.exec(
            select(User.username, Container.name).join(User, User.id == Container.user_id)
            .where(Container.state == state.value, User.deletion_started_at.is_(None))
        ).all())


def _resume_provisioning(runtime: ContainerRuntime, username: str, name: str) -> None:
    new = plan_change.leftover_next(runtime, name)
    if new is not None:  # a committed plan change: its new container takes the name
        plan_change.finish_move(runtime, name, new)
    provisioning.provision(username, actor=SYSTEM, runtime=runtime)


def _settle_unknown_containers(runtime: ContainerRuntime, report: Recovery) -> None:
    prefix = get_settings().container_prefix
    ours = [info for info in runtime.list_managed() if info.name.startswith(prefix)]  # before the rows: see below
    with session_scope() as session:  # a container is only ever created after its row, so each listed one's row is seen here
        known = set(session.exec(select(Container.name)).all())
        users_by_name = {user.username: user for user in session.exec(select(User)).all()}
        has_row = set(session.exec(select(Container.user_id)).all())
    for info in ours:
        if info.name in known:
            continue
        owner = users_by_name.get(info.owner or "")
        base = info.name.removesuffix(plan_change.NEXT_SUFFIX)
        if owner is not None and base != info.name and base in known:
            _attempt(report, report.removed, info.name, partial(_undo_plan_change, runtime, owner, base))
        elif (owner is not None and owner.deletion_started_at is None and owner.id not in has_row
              and info.name == provisioning.container_name(owner.username)):
            _attempt(report, report.adopted, owner.username, partial(_adopt, owner, info))
        else:
            _attempt(report, report.removed, info.name, partial(_remove_unowned, runtime, info))


def _undo_plan_change(runtime: ContainerRuntime, owner: User, name: str) -> None:
    with session_scope() as session:
        storage_mb = plans.plan_of(session, owner).storage_mb
        row_id = session.exec(select(Container.id).where(Container.name == name)).one()
    old = plan_change.undo_uncommitted(runtime, owner, name, storage_mb)
    provisioning.save_engine_state(row_id, old)
    activity.record(activity.Action.REMOVE_CONTAINER, actor=SYSTEM, target=owner.username,
                    details=f"{name}{plan_change.NEXT_SUFFIX}: the new container of a plan change that did not finish")


def _adopt(owner: User, info: ContainerInfo) -> None:
    with session_scope() as session:
        row = Container(user_id=owner.id, name=info.name, image=info.image)
        session.add(row)
        session.flush()
        row_id = row.id
    provisioning.save_engine_state(row_id, info)
    activity.record(activity.Action.PROVISION, actor=SYSTEM, target=owner.username,
                    details=f"adopted {info.name}, found in the engine without its row")


def _remove_unowned(runtime: ContainerRuntime, info: ContainerInfo) -> None:
    runtime.remove(info.id)
    activity.record(activity.Action.REMOVE_CONTAINER, actor=SYSTEM, target=info.name, target_is_account=False,
                    details=f"labelled for {info.owner or 'nobody'}, who has no such container")
