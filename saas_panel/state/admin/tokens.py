"""The admin's API tokens: list, create (the token is shown once), revoke."""

from __future__ import annotations

from typing import ClassVar

import reflex as rx
from reflex.experimental.client_state import ClientStateVar

from saas_panel import presentation
from saas_panel.services import api_tokens
from saas_panel.services.activity import Action
from saas_panel.services.auth import CurrentUser
from saas_panel.state.admin.base import AdminBase, admin_event
from saas_panel.state.admin.table import ScreenState

# The raw token just created lives only in the browser's memory: a state var would be
# written to the state store (disk or Redis) after the event. Its dialog is open while it is set.
NEW_TOKEN = ClientStateVar.create("new_api_token", default="")


class TokensState(ScreenState, AdminBase):
    VIEW_ACTION: ClassVar[Action] = Action.VIEW_API_TOKENS

    rows: list[dict] = []
    create_open: bool = False
    create_error: str = ""
    new_token_name: str = ""  # the dialog's title; the token itself is in NEW_TOKEN

    def _clear(self) -> None:
        self.rows = []
        self.new_token_name = ""

    async def _refresh(self) -> None:
        self.rows = [presentation.token_row(row) for row in await self._run(api_tokens.list_tokens)]

    @admin_event(Action.CREATE_API_TOKEN)
    async def open_create(self, open_: bool):
        self.create_open, self.create_error = bool(open_), ""

    @admin_event(Action.CREATE_API_TOKEN, busy="create", error_var="create_error")
    async def create_token(self, admin: CurrentUser, form_data: dict):
        created = await self._run(
            api_tokens.create,
            admin,
            str(form_data.get("name", "")),
            str(form_data.get("scope", "read")),
            form_data.get("expires_in_days", ""),
            self._client_ip(),
        )
        self.create_open = False
        self.new_token_name = created.name
        await self._refresh()
        return NEW_TOKEN.push(created.token)

    @admin_event(Action.REVOKE_API_TOKEN, busy="revoke:{token_id}")
    async def revoke(self, admin: CurrentUser, token_id: int):
        name = await self._run(api_tokens.revoke, admin, token_id, self._client_ip())
        await self._refresh()
        return rx.toast.success(f"Token {name} revoked.")
