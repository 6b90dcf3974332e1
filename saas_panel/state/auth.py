"""Session handling for every page: who is logged in, and with which role.

The browser keeps only an opaque token in localStorage (scoped to the panel's
origin, port included, so user apps on other ports cannot read it). Every
handler resolves that token on the server; no client var decides a role.
"""

from __future__ import annotations

import asyncio

import reflex as rx

from saas_panel.services import auth, client_ip
from saas_panel.services.app_access import safe_next
from saas_panel.services.auth import CurrentUser
from saas_panel.errors import DomainError
from saas_panel.state.background import abandon_signup, provision_in_background
from saas_panel.state.rooms import leave_room

TOKEN_STORAGE_KEY = "saas_panel_session"


class AuthState(rx.State):
    session_token: str = rx.LocalStorage("", name=TOKEN_STORAGE_KEY, sync=True)
    username: str = ""
    role: str = ""
    form_error: str = ""
    busy: bool = False
    signup_open: bool = True

    @rx.var
    def is_authenticated(self) -> bool:
        return self.username != ""

    @rx.var
    def is_admin(self) -> bool:
        return self.role == "admin"

    # --- helpers for every handler (underscore: not callable from the client) ---

    def _client_ip(self) -> str:
        """The socket peer, or X-Forwarded-For's client when the peer is a trusted proxy."""
        forwarded = self.router.headers.raw_headers.get("x-forwarded-for", "")
        return client_ip.resolve(self.router.session.client_ip, forwarded)

    async def _current_user(self) -> CurrentUser | None:
        user = await asyncio.to_thread(auth.resolve_session, self.session_token)
        self.username = user.username if user else ""
        self.role = user.role if user else ""
        return user

    async def _require_admin(self, action: str) -> CurrentUser:
        """The admin making this call; logs and raises PermissionDenied otherwise."""
        user = await asyncio.to_thread(auth.require_admin, self.session_token, action, self._client_ip())
        return user

    def _signed_in(self, user: CurrentUser, token: str):
        self.session_token = token
        self.username = user.username
        self.role = user.role
        self.form_error = ""
        return rx.redirect(self._next_page() or home_for(user.role))

    def _next_page(self) -> str:
        """Where the login page was asked to return to: a path of this panel, or nothing."""
        wanted = self.router.url.query_parameters.get("next", "")
        return wanted if wanted and safe_next(wanted) == wanted and wanted != "/" else ""

    # --- page guards (on_load) ---

    async def require_admin_page(self):
        user = await self._current_user()
        if user is None:
            return rx.redirect("/login")
        if not user.is_admin:
            return [rx.redirect("/dashboard"), rx.toast.error("Administrators only.")]

    async def redirect_if_signed_in(self):
        self.form_error = ""
        self.signup_open = auth.signup_open()
        user = await self._current_user()
        if user is not None:
            return rx.redirect(self._next_page() or home_for(user.role))

    async def route_home(self):
        user = await self._current_user()
        return rx.redirect(home_for(user.role) if user else "/login")

    # --- actions ---

    @rx.event
    async def login(self, form_data: dict):
        self.busy = True
        yield
        try:
            user, token = await asyncio.to_thread(
                auth.login,
                str(form_data.get("username", "")),
                str(form_data.get("password", "")),
                self._client_ip(),
                self.session_token or None,
            )
        except DomainError as exc:
            self.form_error = str(exc)
            return
        finally:
            self.busy = False
        yield self._signed_in(user, token)

    @rx.event
    async def signup(self, form_data: dict):
        self.busy = True
        yield
        ip = self._client_ip()
        password = str(form_data.get("password", ""))
        try:
            opened = await asyncio.to_thread(auth.open_account, str(form_data.get("username", "")), str(form_data.get("email", "")), password, ip)
        except DomainError as exc:
            self.form_error = str(exc)
            self.busy = False
            return
        # The app starts while bcrypt hashes. The page changes only once the session is stored in
        # the browser: a reload or a link followed before that would find no session.
        provision_in_background(opened.username, actor=opened.username, ip=ip)
        try:
            user = await asyncio.to_thread(auth.complete_account, opened.username, password)
            token = await asyncio.to_thread(auth.start_session, user, ip, self.session_token or None)
        except DomainError as exc:
            self.form_error = str(exc)
            await abandon_signup(opened.username)
            return
        finally:
            self.busy = False
        yield self._signed_in(user, token)
        yield rx.toast.success(f"Welcome, {user.username}! Your container is being created.")

    @rx.event
    async def logout(self):
        token = self.session_token
        refresh = await self._forget_user()
        await asyncio.to_thread(auth.logout, token, self._client_ip())
        return [*refresh, rx.redirect("/login")]

    async def _forget_user(self) -> list:
        """Unlink this tab from its live rooms and put every per-user state back to its defaults,
        so nothing of the previous user stays visible or keeps updating in this tab."""
        from saas_panel.state.live import LIVE_ROOMS  # live.py builds on this module

        refresh = []
        for room_cls in LIVE_ROOMS:
            refresh += await leave_room(await self.get_state(room_cls))
        for cls in _descendants(AuthState):
            await self.get_state(cls)  # loaded, so that reset() below reaches it
        self.reset()
        return refresh


def _descendants(cls: type) -> list[type]:
    """The states below `cls` (a Reflex substate is a Python subclass of its parent; mixins are not states)."""
    found = []
    for sub in cls.__subclasses__():
        found += [*([] if sub._mixin else [sub]), *_descendants(sub)]
    return found


def home_for(role: str) -> str:
    return "/admin" if role == "admin" else "/dashboard"

