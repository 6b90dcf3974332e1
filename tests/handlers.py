"""Call Reflex event handlers directly, as a forged client event would."""

from __future__ import annotations

import asyncio
import inspect
from concurrent.futures import ThreadPoolExecutor


def run(coro):
    """asyncio.run in a fresh thread: Playwright's sync API may own this thread's loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _invoke(state, handler, kwargs):
    result = handler.fn(state, **kwargs)
    if inspect.isasyncgen(result):
        return [item async for item in result]
    if inspect.isawaitable(result):
        return await result
    return result


def call(state, handler, **kwargs):
    """Run `handler` on `state` to completion; return what it returned or yielded."""
    return run(_invoke(state, handler, kwargs))


def state_with_token(state_cls, token: str):
    """`state_cls` inside a whole state tree (so `get_state` finds its siblings), signed in with `token`."""
    import reflex as rx

    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(state_cls.get_full_name().split(".")[1:])
    state.session_token = token
    return state


def admin_states() -> list:
    """Every admin screen's state: the registered admin pages import theirs, and each is a substate of AdminBase."""
    import saas_panel.pages.admin  # noqa: F401
    from saas_panel.state.admin import AdminBase

    return sorted(AdminBase.get_substates(), key=lambda state_cls: state_cls.get_full_name())


def admin_handlers(state_cls) -> dict:
    """The event handlers an admin state adds (not the ones every AuthState has)."""
    from saas_panel.state.auth import AuthState

    inherited = set(AuthState.event_handlers)  # includes Reflex's own `setvar`
    return {name: handler for name, handler in state_cls.event_handlers.items() if name not in inherited}


def forged_args(victim_id: int, container_id: int, token_id: int, plan_id: int = 1, rule_id: int = 1) -> dict:
    """What a forger would send to an admin handler, by parameter name, aimed at a victim's things
    (`plan_id`: a plan not the default; 1, the default made at first start, when not given)."""
    return {
        "user_id": victim_id,
        "container_id": container_id,
        "token_id": token_id,
        "plan_id": plan_id,
        "rule_id": rule_id,
        "active": False,
        "exempt": True,
        "role": "admin",
        "action": "delete",
        "value": "victim",
        "name": "role",
        "column": "email",
        "page": 2,
        "checked": True,
        "open_": True,
        "form_data": {
            "username": "forged",
            "email": "forged@example.com",
            "password": "forged password",
            "role": "admin",
            "provision": "on",
            "user_id": victim_id,
            "mem_limit_mb": "4096",
            "cpu_limit": "4",
            "name": "forged token",
            "scope": "admin",
            "expires_in_days": "365",
            "plan_id": str(plan_id),
            "image": "forged:latest",
            "storage_mb": "16",
            "idle_stop_minutes": "0",
        },
    }
