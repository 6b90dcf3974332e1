"""The collector's loop publishes to many watching users without holding the event loop until it
has written every user's room: each user's tabs (and every other event) get their turn in between."""

from __future__ import annotations

import asyncio

from saas_panel.services.collector_loop import CollectorLoop
from saas_panel.services.coordination import LocalLease, LocalWatchers
from saas_panel.services.monitor import Collector
from tests.integration.recording_publisher import RecordingPublisher, running, until
from tests.mocking import FakeRuntime

USERS = ("alice", "bob", "carol", "dave")


def test_other_tasks_run_between_two_users_numbers(db):
    watching = LocalWatchers()
    for username in USERS:
        watching.add(username)
    publisher = RecordingPublisher()
    loop = CollectorLoop(Collector(FakeRuntime()), publisher, LocalLease(), watching, interval=0.02)
    turns = 0  # how often another task got the event loop so far
    seen_at: list[int] = []

    async def usage(username, snapshot, mine) -> None:  # as a room write that need not suspend
        seen_at.append(turns)

    publisher.usage = usage

    async def other_task() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    async def scenario() -> None:
        other = asyncio.create_task(other_task())
        try:
            async with running(loop):
                await until(lambda: len(seen_at) >= len(USERS), "a sweep published to every watching user")
        finally:
            other.cancel()

    asyncio.run(scenario())
    first_sweep = seen_at[: len(USERS)]
    assert all(later > earlier for earlier, later in zip(first_sweep, first_sweep[1:])), first_sweep
