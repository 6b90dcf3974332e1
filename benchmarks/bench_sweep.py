"""One full refresh of state + CPU + memory for 100 running containers, against `docker stats --no-stream`.

Setup (not timed): a fleet of CONTAINERS running managed containers
(benchmarks/fleet.py), a warm-up sweep.

- `ours_s`: median of REPEAT `Collector(get_runtime()).sweep(store=False)`
  calls (one list call for the state, cgroup counters for CPU and memory,
  CPU% from the previous sweep's sample) after one warm-up.
- `with_db_s`: the same with `store=True` (reconcile against the containers
  table + one metrics row per running container) on a scratch DB that has a
  user and a container row for every fleet container.
- `docker_stats_cli_s`: median of CLI_REPEAT `docker stats --no-stream
  <the fleet's names>` runs, in the same run on the same containers.

The sweep covers every managed container on the engine, including any that
are not part of the fleet: "containers" is the number it actually reported
usage for, "fleet" the number we created.
"""

from __future__ import annotations

import statistics
import subprocess
import time

from benchmarks.common import median_seconds, scratch_database
from benchmarks.fleet import fleet

CONTAINERS = 100
REPEAT = 20
CLI_REPEAT = 3
GOAL_S = 0.02
GOAL_RATIO = 100


def _cli(names: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(["docker", "stats", "--no-stream", *names], check=True, capture_output=True)
    return time.perf_counter() - start


def run():
    from saas_panel.runtime import get_runtime
    from saas_panel.services.monitor import Collector

    with fleet(CONTAINERS, tag="sweep") as f:
        collector = Collector(get_runtime())
        warm = collector.sweep(store=False)
        swept = len(warm.containers)
        ours = median_seconds(lambda: collector.sweep(store=False), REPEAT)
        cli = statistics.median(_cli(f.names) for _ in range(CLI_REPEAT))

        with scratch_database():
            from saas_panel.db import get_engine

            try:
                f.add_to_database()
                stored = Collector(get_runtime())
                stored.sweep(store=True)  # warm-up (also the first metrics compaction)
                with_db = median_seconds(lambda: stored.sweep(store=True), REPEAT)
            finally:
                get_engine().dispose()

    yield {
        "bench": "sweep",
        "containers": swept,
        "fleet": len(f.ids),
        "ours_s": round(ours, 4),
        "with_db_s": round(with_db, 4),
        "docker_stats_cli_s": round(cli, 3),
        "ratio": round(cli / ours, 1),
        "goal_met": ours <= GOAL_S and cli / ours >= GOAL_RATIO,
    }
