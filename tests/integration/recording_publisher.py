"""Runs the collector's loop in a test and keeps what it publishes, instead of the live rooms."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from saas_panel.services.collector_loop import CollectorLoop

WAIT_S = 15.0


class RecordingPublisher:
    """A `collector_loop.Publisher`: `calls` holds what the loop published, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    async def platform(self, snapshot, series) -> None:
        self.calls.append(("platform", snapshot))

    async def usage(self, username, snapshot, mine) -> None:
        self.calls.append(("usage", username, snapshot, mine))

    async def status(self, username, status) -> None:
        self.calls.append(("status", username, status))

    async def node(self, username, down) -> None:
        self.calls.append(("node", username, down))

    def sweeps(self) -> list:
        """The snapshot of every sweep published so far (None: the engine was unreachable)."""
        return [call[1] for call in self.calls if call[0] == "platform"]

    def published(self, kind: str) -> list[tuple]:
        return [call[1:] for call in self.calls if call[0] == kind]


async def until(found: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not found():
        assert time.monotonic() < deadline, f"still waiting for {what} after {WAIT_S:g}s"
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running(loop: CollectorLoop):
    """The loop as a task, cancelled on the way out (as the app's lifespan does at shutdown)."""
    task = asyncio.create_task(loop.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
