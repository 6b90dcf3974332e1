"""Live rooms cannot be joined by name: a raw websocket client that claims a room's name (or any
variation of it) as its client token receives nothing, while the room's real token does."""

from __future__ import annotations

import hashlib
import time
import uuid

from playwright.sync_api import expect
from websockets.sync.client import connect

from saas_panel.state.rooms import PLATFORM, room_token, user_room
from tests.e2e.helpers import sign_up
from tests.e2e.test_security import EVENT_NAMESPACE, _ws_url

LISTEN_S = 4.0  # four collector sweeps at the tests' 1 s interval


def _listen(panel: str, tokens: list[str]) -> dict[str, list[str]]:
    """Connect one raw client per token (no login, no event sent) and collect the events pushed to each."""
    sockets = {}
    for token in tokens:
        socket = connect(_ws_url(panel, token), origin=panel, open_timeout=10)
        assert socket.recv(timeout=10).startswith("0{")
        socket.send(f"40{EVENT_NAMESPACE},")
        sockets[token] = socket
    pushed: dict[str, list[str]] = {token: [] for token in tokens}
    deadline = time.monotonic() + LISTEN_S
    try:
        while time.monotonic() < deadline:
            for token, socket in sockets.items():
                try:
                    frame = socket.recv(timeout=0.05)
                except TimeoutError:
                    continue
                if frame == "2":  # engine.io ping
                    socket.send("3")
                elif frame.startswith(f"42{EVENT_NAMESPACE}"):
                    pushed[token].append(frame)
    finally:
        for socket in sockets.values():
            socket.close()
    return pushed


def _guesses(name: str) -> list[str]:
    digest = hashlib.sha256(name.encode()).hexdigest()
    guesses = [
        "live-platform", "live-platform-", "LIVE-PLATFORM", "platform", "room", "roomplatform",
        f"live-user-{name}", f"live-user-{name.replace('-', '_')}", f"user:{name}", f"user-{name}", name,
        f"room{digest}", f"room{hashlib.sha256(b'platform').hexdigest()}", "room" + "0" * 64,
    ]
    return list(dict.fromkeys(guesses))  # one socket per token: Reflex hands a second one a new token


def test_room_names_and_variations_receive_nothing(page, panel):
    name = f"r-{uuid.uuid4().hex[:8]}"  # '-' in the name: the room must still work and stay private
    sign_up(page, name)
    page.wait_for_url("**/dashboard**")
    expect(page.locator("#container-status")).to_have_text("running", timeout=60_000)

    pushed = _listen(panel, _guesses(name))
    assert {token: frames for token, frames in pushed.items() if frames} == {}

    # The same listening does see a room's data when a client holds the room's real token,
    # so the silence above is the defence, not a deaf listener.
    real = _listen(panel, [room_token(PLATFORM), room_token(user_room(name))])
    assert any("by_state" in frame for frame in real[room_token(PLATFORM)])
    assert any("cpu_percent" in frame for frame in real[room_token(user_room(name))])
