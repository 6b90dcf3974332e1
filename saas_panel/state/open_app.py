"""The /open page: hands a signed-in browser over to an app's own origin, waking the app first."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import quote

import reflex as rx

from saas_panel.errors import DomainError
from saas_panel.services import app_access
from saas_panel.state.auth import AuthState
from saas_panel.state.background import tab_connected
from saas_panel.state.dashboard import user_message

WAKE_POLL_S = 0.5
WAKE_LIMIT_S = 90
MESSAGES = {
    "unknown": "There is no app at this address.",
    "denied": "This app belongs to another user.",
    "engine_down": "The container engine is unavailable; try again in a minute.",
    "no_container": "This account has no app container yet: open your dashboard to create it.",
    "missing": "This app's container no longer exists: open your dashboard to create it again.",
}


class OpenAppState(AuthState):
    app: str = ""
    phase: str = "checking"  # checking | starting | failed
    message: str = ""
    _waking_until: float = 0.0

    def _target(self) -> tuple[str, str]:
        query = self.router.url.query_parameters
        return str(query.get("app", ""))[:63], app_access.safe_next(query.get("next"))

    @rx.event
    async def open(self):
        label, next_path = self._target()
        self.app, self.phase, self.message = label, "checking", ""
        opening = await asyncio.to_thread(app_access.opening, self.session_token, label, next_path)
        if opening.status == "login":
            return rx.redirect(f"/login?next={quote(f'/open?app={label}&next={next_path}', safe='')}")
        if opening.status == "ready":
            return rx.redirect(opening.url)
        if opening.status == "asleep":
            self.phase = "starting"
            return OpenAppState.wake
        self.phase, self.message = "failed", MESSAGES[opening.status]

    @rx.event(background=True)
    async def wake(self):
        """Start the app, then go in as soon as it answers; one wake at a time per tab."""
        async with self:
            if self._waking_until > time.time():
                return
            self._waking_until = time.time() + WAKE_LIMIT_S
            token, (label, next_path) = self.session_token, self._target()
        try:
            try:
                await asyncio.to_thread(app_access.wake, token, label, self._client_ip())
            except DomainError as exc:
                async with self:
                    self.phase, self.message = "failed", user_message(exc)
                return
            while self._waking_until > time.time() and await tab_connected(self):
                opening = await asyncio.to_thread(app_access.opening, token, label, next_path)
                if opening.status == "ready":
                    return rx.redirect(opening.url)
                if opening.status != "asleep":
                    async with self:
                        self.phase, self.message = "failed", MESSAGES.get(opening.status, "The app could not be opened.")
                    return
                await asyncio.sleep(WAKE_POLL_S)
            async with self:
                self.phase, self.message = "failed", "Your app did not start in time; see your dashboard."
        finally:
            async with self:
                self._waking_until = 0.0
