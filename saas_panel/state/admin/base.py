"""What every admin screen shares: the role check and the busy flag around a change.

Handlers are public (a client can send any event, and `setvar` any var without
a leading underscore), so each one starts with `await self._admin(action)`,
which reads the role from the database session and logs a refusal. Values a
client could have set (page, sort, filters, selection) are re-validated by the
services.
"""

from __future__ import annotations

import asyncio
import dataclasses

import reflex as rx

from saas_panel.errors import DomainError, PermissionDenied
from saas_panel.services.auth import CurrentUser
from saas_panel.state.auth import AuthState

DENIED = "You need to be an administrator to do this."


def denied():
    return rx.toast.error(DENIED)


def as_dicts(rows: list) -> list[dict]:
    return [dataclasses.asdict(row) for row in rows]


class AdminBase(AuthState):
    # The action running now, e.g. "stop:12" or "bulk"; buttons show a spinner and are disabled.
    pending: str = ""

    async def _admin(self, action: str) -> CurrentUser | None:
        """The admin behind this session, or None (the refusal is logged, the screen cleared)."""
        try:
            return await self._require_admin(action)
        except PermissionDenied:
            self._clear()
            return None

    def _clear(self) -> None:
        """Forget every row shown (a screen overrides this with its own data)."""

    @staticmethod
    async def _run(fn, *args, **kwargs):
        """Database, bcrypt and engine work runs off the event loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def _perform(self, action: str, label: str, work, done, failed=None):
        """Run one admin change, yielding its updates.

        The role check for `action`, then the busy flag `label` while
        `work(admin, ip)` runs off the event loop; on success, yields what
        `await done(result)` returns; on a DomainError, what `failed(exc)`
        returns (an error toast by default).
        """
        admin = await self._admin(action)
        if admin is None:
            yield denied()
            return
        self.pending = label
        yield
        try:
            result = await self._run(work, admin, self._client_ip())
        except DomainError as exc:
            yield failed(exc) if failed else rx.toast.error(str(exc))
            return
        finally:
            self.pending = ""
        yield await done(result)
