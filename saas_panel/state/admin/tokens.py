"""The admin's API tokens: list, create (the token is shown once), revoke."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx
from reflex.experimental.client_state import ClientStateVar

from saas_panel.services import api_tokens
from saas_panel.state.admin.base import AdminBase, as_dicts, denied
from saas_panel.state.admin.table import ScreenState

# The raw token just created lives only in the browser's memory: a state var would be
# written to the state store (disk or Redis) after the event. Its dialog is open while it is set.
NEW_TOKEN = ClientStateVar.create("new_api_token", default="")


class TokensState(ScreenState, AdminBase):
    VIEW_ACTION: ClassVar[str] = "view_api_tokens"

    rows: list[dict] = []
    create_open: bool = False
    create_error: str = ""
    new_token_name: str = ""  # the dialog's title; the token itself is in NEW_TOKEN

    def _clear(self) -> None:
        self.rows = []
        self.new_token_name = ""

    async def _refresh(self) -> None:
        self.rows = as_dicts(await self._run(api_tokens.list_tokens))

    @rx.event
    async def open_create(self, open_: bool):
        if await self._admin("create_api_token") is None:
            return denied()
        self.create_open, self.create_error = bool(open_), ""

    @rx.event
    async def create_token(self, form_data: dict):
        def work(admin, ip):
            return api_tokens.create(
                admin,
                str(form_data.get("name", "")),
                str(form_data.get("scope", "read")),
                form_data.get("expires_in_days", ""),
                ip,
            )

        async def done(created):
            self.create_open = False
            self.new_token_name = created.name
            await self._refresh()
            return NEW_TOKEN.push(created.token)

        def failed(exc):
            self.create_error = str(exc)

        self.create_error = ""
        async for update in self._perform("create_api_token", "create", work, done, failed):
            yield update

    @rx.event
    async def revoke(self, token_id: int):
        async def done(name):
            await self._refresh()
            return rx.toast.success(f"Token {name} revoked.")

        async for update in self._perform("revoke_api_token", f"revoke:{token_id}", lambda admin, ip: api_tokens.revoke(admin, token_id, ip), done):
            yield update
