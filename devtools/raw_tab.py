"""A panel tab without a browser: what a page says and hears on Reflex's websocket (/_event).

What the browser does (Reflex's state.js, socket.io over a websocket): open
`<panel>/_event/?EIO=4&transport=websocket&token=<tab token>`, read the engine.io
open packet ("0{...}"), then connect the /_event namespace with the tab's first
event riding in the CONNECT packet's auth: `hydrate_and_load`, carrying the page's
path and the browser-stored vars (the session token from localStorage). The
backend answers with the state and runs the page's on_load handlers. State pushed
to the tab arrives as `42/_event,["event", {"delta": ..., "events": ...}]`; the
server's engine.io pings ("2") are answered ("3"), as the browser's client does.

    tab = RawTab(base_url)
    await tab.open("/dashboard", session_token)
    update = await tab.wait_for(lambda u: ..., timeout=30)  # or tab.expect(...) before open()
    await tab.close()
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reflex.state import State
from reflex_base.constants.state import FIELD_MARKER  # Reflex's suffix on the var names of a delta
from websockets.asyncio.client import ClientConnection, connect

# State modules are imported at module level, never first inside a coroutine: the first import
# sets Reflex's registration context in the importing task's context only, and a state module
# imported later by another task then fails to register its states (LookupError).
from saas_panel.state.auth import AuthState

EVENT_NAMESPACE = "/_event"
EVENT_FRAME = f"42{EVENT_NAMESPACE},"
CONNECTED_FRAME = f"40{EVENT_NAMESPACE}"
REFUSED_FRAME = f"44{EVENT_NAMESPACE}"
ENGINE_PING, ENGINE_PONG = "2", "3"


class TabError(RuntimeError):
    pass


@dataclass
class Update:
    """One state update pushed to the tab, and when it arrived (time.time(), comparable with the panel's clock)."""

    at: float
    delta: dict[str, dict[str, Any]]
    events: list

    def fields(self, state_cls) -> dict[str, Any]:
        """The vars of `state_cls` in this update, by their plain names."""
        values = self.delta.get(state_cls.get_full_name(), {})
        return {name.removesuffix(FIELD_MARKER): value for name, value in values.items()}


@dataclass
class _Waiter:
    wanted: Callable[[Update], bool]
    found: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class RawTab:
    """One tab. `keep` chooses the updates kept in `updates` (all by default; a load test keeps few)."""

    def __init__(self, base_url: str, keep: Callable[[Update], bool] = lambda update: True):
        self.base_url = base_url
        self.token = str(uuid.uuid4())  # the browser's per-tab token (sessionStorage)
        self.keep = keep
        self.updates: list[Update] = []
        self._socket: ClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self._waiters: list[_Waiter] = []
        self._path = "/"
        self.closed_reason = ""

    @property
    def connected(self) -> bool:
        return self._reader is not None and not self._reader.done()

    async def open(self, path: str, session_token: str = "", timeout: float = 30) -> None:
        """Load `path` as the browser does on a page load (the session token is localStorage's value)."""
        self._path = path
        url = self.base_url.replace("http", "ws", 1) + f"{EVENT_NAMESPACE}/?EIO=4&transport=websocket&token={self.token}"
        boot = self._event(
            f"{State.get_full_name()}.hydrate_and_load",
            {"vars": {f"{AuthState.get_full_name()}.session_token": session_token}},
        )
        async with asyncio.timeout(timeout):
            self._socket = await connect(url, origin=self.base_url, open_timeout=timeout, max_size=None)
            opened = await self._socket.recv()
            if not opened.startswith("0{"):
                raise TabError(f"no engine.io open packet: {opened[:200]!r}")
            await self._socket.send(f"40{EVENT_NAMESPACE}," + json.dumps({"event": boot}))
            while not (answer := await self._socket.recv()).startswith(CONNECTED_FRAME):
                if answer.startswith(REFUSED_FRAME):
                    raise TabError(f"connection refused: {answer[:200]}")
                self._handle(answer)
        self._reader = asyncio.create_task(self._read())

    async def emit(self, handler: str, payload: dict) -> None:
        """Send an event to `handler` (a state's full name, '.', the handler's name), as a click would."""
        if self._socket is None:
            raise TabError("the tab is not open")
        await self._socket.send(EVENT_FRAME + json.dumps(["event", self._event(handler, payload)]))

    def expect(self, wanted: Callable[[Update], bool]) -> asyncio.Future:
        """A future of the first update from now on for which `wanted` is true (call it before
        `open` to catch what the page load itself brings)."""
        waiter = _Waiter(wanted)
        self._waiters.append(waiter)
        waiter.found.add_done_callback(lambda _: self._waiters.remove(waiter))
        return waiter.found

    async def wait_for(self, wanted: Callable[[Update], bool], timeout: float) -> Update:
        """The first update from now on for which `wanted` is true."""
        return await asyncio.wait_for(self.expect(wanted), timeout)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        if self._socket is not None:
            await self._socket.close()

    def _event(self, name: str, payload: dict) -> dict:
        return {"name": name, "payload": payload, "router_data": {"pathname": self._path, "asPath": self._path}}

    async def _read(self) -> None:
        try:
            async for frame in self._socket:
                if frame == ENGINE_PING:
                    await self._socket.send(ENGINE_PONG)
                else:
                    self._handle(frame)
        except Exception as exc:  # noqa: BLE001 - a dropped socket ends the tab; waiters hear why
            self.closed_reason = f"socket closed: {exc}"
        else:
            self.closed_reason = "socket closed by the panel"
        for waiter in list(self._waiters):
            if not waiter.found.done():
                waiter.found.set_exception(TabError(self.closed_reason))

    def _handle(self, frame: str) -> None:
        if not frame.startswith(EVENT_FRAME):
            return
        at = time.time()
        name, body = json.loads(frame[len(EVENT_FRAME):])
        if name != "event":
            return
        update = Update(at, body.get("delta") or {}, body.get("events") or [])
        for waiter in list(self._waiters):
            if not waiter.found.done() and waiter.wanted(update):
                waiter.found.set_result(update)
        if self.keep(update):
            self.updates.append(update)
