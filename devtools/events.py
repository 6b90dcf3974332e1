"""A collector following its engine's events in a thread, as the panel's loop does
(services/collector_loop.py), for tests and benchmarks that sweep on their own schedule:

    with following(collector) as changes:
        collector.sweep()  # the inventory, kept by the events: no engine call
        changes            # (owner, new state) of each row an event changed, so far
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from saas_panel.errors import EngineUnavailable
from saas_panel.services.monitor import Collector

OPEN_WAIT_S = 30.0
WAIT_S = 15.0  # only a bound on a hung test, never a timing assertion


@contextmanager
def following(collector: Collector) -> Iterator[list[tuple[str, str]]]:
    """The collector's runtime's event stream applied by `collector.follow` until the block ends."""
    stream = collector.runtime.events()
    changes: list[tuple[str, str]] = []

    def pump() -> None:
        try:
            changes.extend(collector.follow(stream))
        except EngineUnavailable:
            pass

    thread = threading.Thread(target=pump, name="follow-events", daemon=True)
    thread.start()
    deadline = time.monotonic() + OPEN_WAIT_S
    while not collector.inventory.following:
        if not thread.is_alive() or time.monotonic() > deadline:
            stream.close()
            raise RuntimeError("the collector did not start following the event stream")
        time.sleep(0.01)
    try:
        yield changes
    finally:
        stream.close()
        thread.join(OPEN_WAIT_S)


def eventually(found: Callable[[], object], what: str) -> None:
    """Wait until `found()` holds (events arrive in their own time); AssertionError naming `what` after WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while not found():
        assert time.monotonic() < deadline, f"still waiting for {what} after {WAIT_S:g}s"
        time.sleep(0.01)
