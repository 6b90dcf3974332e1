"""Apps leave a drained node: each moves to another node with its files, recorded by the system.

An admin drains a node (`docker node update --availability drain`) to take it out of service; Swarm
stops its tasks, and the apps pinned there (their volumes are local to it) would wait forever.
The collector notices a drained node that still holds apps and calls `relocate_drained`.
"""

from __future__ import annotations

import logging

from saas_panel.errors import DomainError
from saas_panel.models import Outcome
from saas_panel.runtime import ContainerInfo, ContainerRuntime
from saas_panel.services import activity, provisioning
from saas_panel.services.nodes import NodeRow

log = logging.getLogger(__name__)


def needed(node_rows: list[NodeRow]) -> bool:
    """True when a node that answers but takes no new apps still holds some (from a sweep's nodes)."""
    return any(row.ready and not row.available and row.apps for row in node_rows)


def _drained_apps(runtime: ContainerRuntime) -> list[ContainerInfo]:
    drained = {node.hostname for node in runtime.nodes() if node.ready and not node.available}
    return [info for info in runtime.list_managed() if info.node in drained and info.owner] if drained else []


def relocate_drained(runtime: ContainerRuntime) -> list[tuple[str, str]]:
    """Move every app off the drained nodes; returns (owner, state now) of each app that moved."""
    moved = []
    for info in _drained_apps(runtime):
        owner = info.owner
        with provisioning.user_lock(owner), provisioning.panel_action(info.name):
            try:
                new = runtime.move(info.id)
            except DomainError as exc:
                log.warning("moving %s's app off %s failed: %s", owner, info.node, exc)
                activity.record(activity.Action.RELOCATE_APP, actor=activity.SYSTEM_ACTOR, target=owner,
                                outcome=Outcome.FAILURE, details=f"off {info.node}: {exc}")
                continue
            _, row = provisioning.user_and_row(owner)
            if row is not None:
                provisioning.save_engine_state(row.id, new)
        activity.record(activity.Action.RELOCATE_APP, actor=activity.SYSTEM_ACTOR, target=owner,
                        details=f"The server your app ran on ({info.node}) was taken out of service: "
                                f"your app now runs on {new.node}, with your files.")
        moved.append((owner, provisioning.engine_state(new).value))
    return moved
