"""What every admin screen shares: the role check around each handler, and the busy flag.

Handlers are public (a client can send any event, and `setvar` any var without
a leading underscore), so every handler an admin state adds is an
`@admin_event`: it reads the role from the database session, and logs and
refuses anything else (tests/unit/test_admin_handlers.py fails for a handler
without it). Values a client could have set (page, sort, filters, selection)
are re-validated by the services.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from typing import ClassVar

import reflex as rx

from saas_panel.errors import DomainError, PermissionDenied
from saas_panel.services.activity import Action
from saas_panel.state.auth import AuthState

DENIED = "You need to be an administrator to do this."


def admin_event(action=None, *, busy: str = "", error_var: str = ""):
    """Make an admin state's method an event handler that only an admin can run.

    `action` is what the role check logs a refusal as: an Action, a function of
    the event's arguments returning one (it raises DomainError for arguments it
    does not know), or None for the screen's VIEW_ACTION. A refused call is
    logged (see auth.require_admin), clears the screen and shows an error toast.
    The method gets the admin as `admin` if it has a parameter of that name (a
    client cannot send it).

    While the method runs, `pending` holds `busy` formatted with the event's
    arguments (e.g. "stop:{container_id}"), for the buttons' spinners. A
    DomainError it raises becomes an error toast, or the text of `error_var`
    (cleared first) for a dialog that shows its own error. What it returns,
    or yields, is sent to the client.
    """

    def decorate(method):
        streams = inspect.isasyncgenfunction(method)
        if not (streams or inspect.iscoroutinefunction(method)):
            raise TypeError(f"@admin_event {method.__name__} must be `async def`")
        signature = inspect.signature(method)
        wants_admin = "admin" in signature.parameters
        event_signature = signature.replace(parameters=[p for p in signature.parameters.values() if p.name != "admin"])

        @functools.wraps(method)
        async def handler(self, *args, **kwargs):
            arguments = event_signature.bind(self, *args, **kwargs).arguments
            del arguments["self"]
            try:
                checked = _checked_action(self, action, arguments)
            except DomainError as exc:
                yield rx.toast.error(str(exc))
                return
            try:
                admin = await self._require_admin(checked)
            except PermissionDenied:
                self._clear()
                yield rx.toast.error(DENIED)
                return
            if error_var:
                setattr(self, error_var, "")
            if busy:
                self.pending = busy.format(**arguments)
                yield
            if wants_admin:
                arguments["admin"] = admin
            updates = None
            try:
                if streams:
                    async for update in method(self, **arguments):
                        yield update
                else:
                    updates = await method(self, **arguments)
            except DomainError as exc:
                if error_var:
                    setattr(self, error_var, str(exc))
                else:
                    yield rx.toast.error(str(exc))
                return
            finally:
                self.pending = ""  # a tab's events run one at a time: whatever set it is done
            if updates is not None:
                yield updates

        # Reflex reads the arguments a client may send, and their types, from these.
        handler.__signature__ = event_signature
        handler.__annotations__ = {name: hint for name, hint in method.__annotations__.items() if name != "admin"}
        handler.admin_action = action
        return rx.event(handler)

    return decorate


def _checked_action(state, action, arguments: dict) -> Action:
    if action is None:
        return state.VIEW_ACTION
    return action(**arguments) if callable(action) else action


def is_admin_event(fn) -> bool:
    """Whether the event handler function `fn` was declared with @admin_event."""
    return hasattr(fn, "admin_action")


class AdminBase(AuthState):
    # What opening the screen (and anything that only reads) logs a refusal as.
    VIEW_ACTION: ClassVar[Action]

    # The action running now, e.g. "stop:12" or "bulk"; buttons show a spinner and are disabled.
    pending: str = ""

    def _clear(self) -> None:
        """Forget every row shown (a screen overrides this with its own data)."""

    @staticmethod
    async def _run(fn, *args, **kwargs):
        """Database, bcrypt and engine work runs off the event loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)
