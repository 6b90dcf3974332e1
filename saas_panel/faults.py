"""A test hook: the process kills itself (SIGKILL) at one named step of a multi-step action.

The fault-injection tests (tests/faults) set SAAS_PANEL_FAULT_POINT=<point> in a child process,
let it die at that step like a panel killed by the OOM killer or a power cut, and check that the
next start finishes or undoes the action (services/recovery.py). The variable is read once, at
import; unset (always, outside those tests) `reached` is one comparison with None.
"""

from __future__ import annotations

import os
import signal

ENV = "SAAS_PANEL_FAULT_POINT"

POINTS = (
    "provision.row_written",  # the container row is in `provisioning`, the engine has nothing yet
    "runtime.container_created",  # the engine made the container, not started yet
    "provision.container_started",  # the container runs, the row still says `provisioning`
    "delete.marked",  # the account is marked for deletion, nothing removed yet
    "delete.container_removed",  # the engine's container is gone, its row is still there
    "delete.data_removed",  # container, row and volume gone, the account is still there
    "plan_change.next_started",  # the new container answers beside the old one, nothing committed
    "plan_change.committed",  # the new plan is in the database, the old container still there
    "plan_change.old_removed",  # the old container is gone, the new one not yet renamed
)

_armed = os.environ.get(ENV) or None
if _armed is not None and _armed not in POINTS:
    raise RuntimeError(f"{ENV}={_armed!r} names no fault point; known: {', '.join(POINTS)}")


def reached(point: str) -> None:
    """Die here, at once and without cleanup, when this is the armed point."""
    if point == _armed:
        os.kill(os.getpid(), signal.SIGKILL)
