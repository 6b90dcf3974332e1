"""Admin console state. Every handler re-checks the admin role on the server."""

from __future__ import annotations

import asyncio
import dataclasses

import reflex as rx

from saas_panel.services import users
from saas_panel.errors import DomainError
from saas_panel.state.auth import AuthState


class AdminState(AuthState):
    users: list[dict] = []
    total_users: int = 0
    active_users: int = 0

    async def _refresh(self) -> None:
        rows = await asyncio.to_thread(users.list_users)
        self.users = [dataclasses.asdict(row) for row in rows]
        self.total_users, self.active_users = await asyncio.to_thread(users.count_users)

    @rx.event
    async def load(self):
        try:
            await self._require_admin("view_admin")
        except DomainError:
            self.users = []
            return
        await self._refresh()

    @rx.event
    async def set_user_active(self, user_id: int, active: bool):
        try:
            admin = await self._require_admin("enable_user" if active else "disable_user")
            await asyncio.to_thread(users.set_active, admin, int(user_id), bool(active), self._client_ip())
        except DomainError as exc:
            return rx.toast.error(str(exc))
        await self._refresh()
        return rx.toast.success("Account enabled." if active else "Account disabled; its sessions were ended.")
