"""The audit trail: every action by users, admins and the system."""

from __future__ import annotations

from sqlmodel import Session

from saas_panel.db import session_scope
from saas_panel.models import ActivityLog, Outcome

SYSTEM_ACTOR = "system"


def record(
    action: str,
    *,
    actor: str | None,
    target: str | None = None,
    ip: str | None = None,
    outcome: Outcome | str = Outcome.SUCCESS,
    details: str | None = None,
    session: Session | None = None,
) -> None:
    """Write one activity row, inside `session` if given (so it commits with the action)."""
    row = ActivityLog(
        actor=(actor or "anonymous")[:64],
        action=action[:64],
        target=target[:128] if target else None,
        ip=ip[:64] if ip else None,
        outcome=outcome.value if isinstance(outcome, Outcome) else outcome,
        details=details[:1000] if details else None,
    )
    if session is not None:
        session.add(row)
        return
    with session_scope() as own:
        own.add(row)
