"""The admin's API tokens: list, create (the token is shown once), revoke."""

from __future__ import annotations

import reflex as rx

from saas_panel.errors import DomainError
from saas_panel.services import api_tokens
from saas_panel.state.admin.base import AdminBase, as_dicts, denied


class TokensState(AdminBase):
    rows: list[dict] = []
    create_open: bool = False
    create_error: str = ""
    # The raw token just created, shown once in a dialog and then forgotten.
    new_token: str = ""
    new_token_name: str = ""

    def _clear(self) -> None:
        self.rows = []
        self.new_token, self.new_token_name = "", ""

    async def _refresh(self) -> None:
        self.rows = as_dicts(await self._run(api_tokens.list_tokens))

    @rx.event
    async def load(self):
        if await self._admin("view_api_tokens") is None:
            return denied()
        await self._refresh()

    @rx.event
    async def open_create(self, open_: bool):
        if await self._admin("create_api_token") is None:
            return denied()
        self.create_open, self.create_error = bool(open_), ""

    @rx.event
    async def create_token(self, form_data: dict):
        admin = await self._admin("create_api_token")
        if admin is None:
            yield denied()
            return
        self.pending, self.create_error = "create", ""
        yield
        try:
            created = await self._run(
                api_tokens.create,
                admin,
                str(form_data.get("name", "")),
                str(form_data.get("scope", "read")),
                form_data.get("expires_in_days", ""),
                self._client_ip(),
            )
        except DomainError as exc:
            self.create_error = str(exc)
            return
        finally:
            self.pending = ""
        self.create_open = False
        self.new_token, self.new_token_name = created.token, created.name
        await self._refresh()

    @rx.event
    async def close_token(self):
        self.new_token, self.new_token_name = "", ""
        if await self._admin("view_api_tokens") is None:
            return denied()

    @rx.event
    async def revoke(self, token_id: int):
        admin = await self._admin("revoke_api_token")
        if admin is None:
            yield denied()
            return
        self.pending = f"revoke:{token_id}"
        yield
        try:
            name = await self._run(api_tokens.revoke, admin, token_id, self._client_ip())
        except DomainError as exc:
            yield rx.toast.error(str(exc))
            return
        finally:
            self.pending = ""
        await self._refresh()
        yield rx.toast.success(f"Token {name} revoked.")
