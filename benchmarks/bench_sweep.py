"""One full refresh of state + CPU + memory for 100 and for 500 running containers, against
`docker stats --no-stream`.

Setup (not timed): a fleet of CONTAINERS[0] running managed containers (benchmarks/fleet.py),
then a second fleet that brings it to CONTAINERS[1]; one line for each size.

- `ours_s`: median of REPEAT `Collector(get_runtime()).sweep(store=False)` calls while the
  collector follows the engine's events (devtools/events.py), as the panel's loop does: the
  containers come from its inventory (no engine call), CPU and memory from cgroup files, CPU%
  from the previous sweep's sample. Timed after the one list that follows the stream's opening.
- `listed_s`: the same without following events: one list call to the engine per sweep (how
  every sweep worked before the inventory, and how one works when the stream is down).
- `with_db_s`: `ours_s` with `store=True` (reconcile against the containers table + one
  metrics row per running container) on a scratch DB that has a user and a container row for
  every fleet container.
- `docker_stats_cli_s`: median of CLI_REPEAT `docker stats --no-stream <the fleet's names>`
  runs, in the same run on the same containers.

The sweep covers every managed container on the engine, including any that are not part of
the fleet: "containers" is the number it actually reported usage for, "fleet" the number we created.
"""

from __future__ import annotations

import statistics
import subprocess
import time

from benchmarks.common import median_seconds, scratch_database
from benchmarks.fleet import Fleet, fleet

CONTAINERS = (100, 500)
REPEAT = 20
CLI_REPEAT = 3
GOAL_S = 0.01  # at CONTAINERS[0]
GOAL_RATIO = 200


def _cli(names: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(["docker", "stats", "--no-stream", *names], check=True, capture_output=True)
    return time.perf_counter() - start


def _following_sweep(store: bool) -> tuple[int, float]:
    """(containers swept, median seconds of a sweep) while the collector follows events."""
    from devtools.events import following
    from saas_panel.runtime import get_runtime
    from saas_panel.services.monitor import Collector

    collector = Collector(get_runtime())
    with following(collector):
        collector.sweep(store=store)  # the list after the stream opened (and the first compaction)
        swept = len(collector.sweep(store=store).containers)
        return swept, median_seconds(lambda: collector.sweep(store=store), REPEAT)


def _measure(fleets: list[Fleet]) -> dict:
    from saas_panel.runtime import get_runtime
    from saas_panel.services.monitor import Collector

    swept, ours = _following_sweep(store=False)
    listing = Collector(get_runtime())  # follows no events: it lists on every sweep
    listing.sweep(store=False)
    listed = median_seconds(lambda: listing.sweep(store=False), REPEAT)
    names = [name for f in fleets for name in f.names]
    cli = statistics.median(_cli(names) for _ in range(CLI_REPEAT))

    with scratch_database():
        from saas_panel.db import get_engine

        try:
            for f in fleets:
                f.add_to_database()
            _, with_db = _following_sweep(store=True)
        finally:
            get_engine().dispose()
    has_goal = len(names) == CONTAINERS[0]
    return {
        "bench": "sweep",
        "containers": swept,
        "fleet": sum(len(f.ids) for f in fleets),
        "ours_s": round(ours, 4),
        "listed_s": round(listed, 4),
        "with_db_s": round(with_db, 4),
        "docker_stats_cli_s": round(cli, 3),
        "ratio": round(cli / ours, 1),
        "goal_met": ours <= GOAL_S and cli / ours >= GOAL_RATIO if has_goal else None,
    }


def run():
    with fleet(CONTAINERS[0], tag="sweep") as first:
        yield _measure([first])
        with fleet(CONTAINERS[1] - CONTAINERS[0], tag="sweep") as more:
            yield _measure([first, more])
