"""CPU cost of the collector at 100 and at 500 containers: this process plus dockerd + containerd, per core.

Setup (not measured): a fleet of CONTAINERS[0] running managed containers
(benchmarks/fleet.py), SETTLE_S of quiet, a scratch DB with a user and a
container row for each of them; then a second fleet that brings it to
CONTAINERS[1], measured the same way (one line for each size).

1. Baseline: BASELINE_S (30 s) with the fleet running and no collector:
   CPU seconds of dockerd + containerd (utime + stime from /proc/<pid>/stat
   of the processes named exactly `dockerd` and `containerd`; the shims and
   docker-proxy are not counted) and of this (sleeping) process.
2. Collector: WINDOW_S (60 s) of the real collector loop in this process:
   `Collector.sweep(store=True)` every INTERVAL_S (2 s, on a fixed schedule),
   plus a thread following the engine event stream with `Collector.follow`
   (devtools/events.py), as services/collector_loop.py's `_follow_events` does:
   the sweeps then take the containers from the collector's inventory and ask
   the engine nothing but a reconciliation list every
   SAAS_PANEL_INVENTORY_RECONCILE_SECONDS. Measured: this process's CPU
   (time.process_time: all threads) and dockerd + containerd CPU.

core_fraction = (process + engine over the window - baseline scaled to the
window) / WINDOW_S, i.e. cores used on top of the idle fleet;
collector_core_fraction and engine_core_fraction are the two parts. Not
included: pushing results into Reflex states (the panel's publisher).

The image's HEALTHCHECK (every 30 s) runs in both windows; a 30 s baseline
holds one check per container, as each half of the 60 s window does.
Because the windows are easily disturbed, "engine_cpu_per_list_s" also
measures the engine side of a list call in bursts of BURST_CALLS back-to-back
calls; "engine_cpu_per_sweep_s" is its share per sweep (one list every
reconciliation interval) and "core_fraction_burst" adds that to the
collector's own measured share.

BENCH_CPU_SECONDS=<s> shortens both windows (baseline = min(30, s)) for a quick check.

The engine is shared: anything else using it during a window (a build,
another benchmark, e2e tests) lands in dockerd's CPU. An unfiltered event
stream counts engine events not about the fleet (periodic healthcheck
exec/health_status events excluded) in each window as "foreign_events"; if
there were any, the measurement is repeated (up to ATTEMPTS, env
BENCH_CPU_ATTEMPTS) and the attempt with the fewest is reported ("quiet":
true when it had none).
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from collections import deque
from pathlib import Path

from benchmarks.common import scratch_database
from benchmarks.fleet import Fleet, fleet

CONTAINERS = (100, 500)
INTERVAL_S = 2
WINDOW_S = 60.0
BASELINE_S = 30.0
SETTLE_S = 10.0
GOAL = 0.01  # at CONTAINERS[0]
ATTEMPTS = 3
BURST_CALLS = 100
PERIODIC_ACTIONS = ("exec_create", "exec_start", "exec_die", "health_status")
ENGINE_PROCESSES = ("dockerd", "containerd")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def engine_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() in ENGINE_PROCESSES:
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of `pids` (threads included), in seconds."""
    total = 0
    for pid in pids:
        try:
            raw = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])  # fields 14 and 15 of the full line
    return total / CLK_TCK


class ForeignActivity:
    """Counts engine events that are not about the fleets (nor periodic healthchecks)."""

    def __init__(self, prefix: str):
        import docker

        self.prefix = prefix  # every fleet's names start with it
        self.client = docker.from_env(timeout=None)
        self.stream = self.client.events(decode=True)
        self.count = 0
        self.seen: deque[str] = deque(maxlen=5)  # the latest few, for the report
        self.thread = threading.Thread(target=self._pump, name="bench-foreign", daemon=True)

    def _pump(self) -> None:
        try:
            for raw in self.stream:
                actor = raw.get("Actor") or {}
                name = (actor.get("Attributes") or {}).get("name", "")
                action = (raw.get("Action") or "").split(":")[0]
                if name.startswith(self.prefix) or action in PERIODIC_ACTIONS:
                    continue
                self.count += 1
                self.seen.append(f"{raw.get('Type')} {action} {name or actor.get('ID', '')[:12]}")
        except Exception:  # noqa: BLE001 - closed from the main thread
            pass

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stream.close()
        self.thread.join(timeout=10)
        self.client.close()


def engine_cpu_per_list(pids: list[int], runtime, idle_rate: float, calls: int = BURST_CALLS, reps: int = 3) -> float:
    """Median over `reps` bursts of `calls` list_managed() calls of the engine CPU per call, idle rate removed."""
    samples = []
    for _ in range(reps):
        engine0, t0 = cpu_seconds(pids), time.monotonic()
        for _ in range(calls):
            runtime.list_managed()
        samples.append((cpu_seconds(pids) - engine0 - idle_rate * (time.monotonic() - t0)) / calls)
    return statistics.median(samples)


def measure(pids: list[int], window: float, baseline_window: float, monitor: ForeignActivity, fleet_size: int) -> dict:
    from devtools.events import following
    from saas_panel.runtime import get_runtime
    from saas_panel.services.monitor import Collector

    # 1. baseline: the fleet alone
    foreign0 = monitor.count
    engine0, own0, t0 = cpu_seconds(pids), time.process_time(), time.monotonic()
    time.sleep(baseline_window)
    engine_base = cpu_seconds(pids) - engine0
    own_base = time.process_time() - own0
    base_elapsed = time.monotonic() - t0

    # 2. the collector loop
    collector = Collector(get_runtime())
    sweeps = 0
    sweep_wall = 0.0
    with following(collector):
        collector.sweep(store=True)  # warm-up: the list after the stream opened, first compaction, first CPU sample
        engine0, own0, t0 = cpu_seconds(pids), time.process_time(), time.monotonic()
        deadline = t0 + window
        next_at = t0
        while next_at < deadline:
            start = time.monotonic()
            snapshot = collector.sweep(store=True)
            sweep_wall += time.monotonic() - start
            sweeps += 1
            next_at += INTERVAL_S
            time.sleep(max(0.0, min(next_at, deadline) - time.monotonic()))
        engine_run = cpu_seconds(pids) - engine0
        own_run = time.process_time() - own0
        elapsed = time.monotonic() - t0
    foreign = monitor.count - foreign0
    per_list = engine_cpu_per_list(pids, collector.runtime, engine_base / base_elapsed)
    per_sweep = per_list * INTERVAL_S / collector.inventory.reconcile_every

    scale = elapsed / base_elapsed
    collector_part = (own_run - own_base * scale) / elapsed
    engine_part = (engine_run - engine_base * scale) / elapsed
    total = collector_part + engine_part
    return {
        "bench": "collector_cpu",
        "containers": len(snapshot.containers),
        "interval_s": INTERVAL_S,
        "window_s": round(elapsed, 1),
        "baseline_s": round(base_elapsed, 1),
        "core_fraction": round(total, 4),
        "collector_core_fraction": round(collector_part, 4),
        "engine_core_fraction": round(engine_part, 4),
        "engine_idle_core_fraction": round(engine_base / base_elapsed, 4),
        # Noise-robust cross-check of the engine part: dockerd+containerd CPU per list call, from
        # bursts of back-to-back calls, times one list per reconciliation interval (events not included).
        "engine_cpu_per_list_s": round(per_list, 5),
        "engine_cpu_per_sweep_s": round(per_sweep, 6),
        "engine_core_fraction_burst": round(per_sweep / INTERVAL_S, 5),
        "core_fraction_burst": round(collector_part + per_sweep / INTERVAL_S, 4),
        "sweeps": sweeps,
        "sweep_wall_s": round(sweep_wall / max(sweeps, 1), 4),
        "lists": collector.inventory.lists,
        "events": collector.inventory.events,
        "foreign_events": foreign,
        "quiet": foreign == 0,
        "goal_met": total <= GOAL if fleet_size == CONTAINERS[0] else None,
    }


def measure_quietest(pids: list[int], window: float, baseline_window: float, monitor: ForeignActivity, fleets: list[Fleet]) -> dict:
    """`measure` again while engine events not about the fleets disturbed it (BENCH_CPU_ATTEMPTS times at most):
    the attempt with the fewest."""
    attempts = max(1, int(os.environ.get("BENCH_CPU_ATTEMPTS", ATTEMPTS)))
    fleet_size = sum(len(f) for f in fleets)
    results = []
    time.sleep(SETTLE_S)
    for attempt in range(1, attempts + 1):
        result = measure(pids, window, baseline_window, monitor, fleet_size)
        result["attempt"] = attempt
        results.append(result)
        if result["quiet"]:
            break
        print(
            f"[bench collector_cpu] {fleet_size} containers, attempt {attempt}: {result['foreign_events']} foreign engine "
            f"events (latest: {list(monitor.seen)}), core_fraction {result['core_fraction']}",
            file=sys.stderr,
        )
    print(f"[bench collector_cpu] fleet of {len(fleets[-1])} created in {fleets[-1].create_s:.1f}s", file=sys.stderr)
    best = min(results, key=lambda r: (r["foreign_events"], r["attempt"]))
    best["attempts_core_fraction"] = [r["core_fraction"] for r in results]
    return best


def run():
    quick = os.environ.get("BENCH_CPU_SECONDS")
    window = float(quick) if quick else WINDOW_S
    baseline_window = min(BASELINE_S, window)
    pids = engine_pids()
    if not pids:
        raise RuntimeError("no dockerd/containerd process visible in /proc")

    with fleet(CONTAINERS[0], tag="cpu") as first, scratch_database():
        from saas_panel.db import get_engine

        try:
            first.add_to_database()
            with ForeignActivity("bench-cpu-") as monitor:
                yield measure_quietest(pids, window, baseline_window, monitor, [first])
                with fleet(CONTAINERS[1] - CONTAINERS[0], tag="cpu") as more:
                    more.add_to_database()
                    yield measure_quietest(pids, window, baseline_window, monitor, [first, more])
        finally:
            get_engine().dispose()
