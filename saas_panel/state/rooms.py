"""Live rooms: shared states that several tabs link to, keyed so that nobody can join by name.

Reflex lets a websocket client claim any client token that is not connected at
that moment, and a room's state lives under its link token. A room named by a
guessable string ("live-platform") could therefore be read by connecting with
that string. Every room's token is an HMAC of its name with the server secret,
so only the server can compute it; tabs are linked to a room only by
`enter_room`, after the handler has checked who is asking.
"""

from __future__ import annotations

import logging

import reflex as rx

from saas_panel.services.server_secret import derive

ROOM_TOKEN_PREFIX = "room"
PLATFORM = "platform"


def room_token(name: str) -> str:
    """Hex only: Reflex refuses link tokens with '_', and names may contain it."""
    return ROOM_TOKEN_PREFIX + derive("live-room", name)


def user_room(username: str) -> str:
    return f"user:{username}"


async def enter_room(state: rx.SharedState, name: str) -> rx.SharedState:
    """Link this tab's `state` to room `name`; the caller has authorized the tab for it."""
    token = room_token(name)
    if state._linked_to == token:
        return state
    return await state._link_to(token)


async def leave_room(state: rx.SharedState) -> list:
    """Unlink this tab from its room, if any; returns the events that refresh the tab."""
    if not state._linked_to or not (state._reflex_internal_links or {}).get(state.get_full_name()):
        return []
    return await state._unlink()


class _RoomDeltaFilter(logging.Filter):
    """A room is not a browser: Reflex warns that a room's own update has no socket on every
    sweep, although the fan-out to the tabs linked to the room happens all the same."""

    def filter(self, record: logging.LogRecord) -> bool:
        return f"disconnected client '{ROOM_TOKEN_PREFIX}" not in record.getMessage()


logging.getLogger("reflex.app").addFilter(_RoomDeltaFilter())
