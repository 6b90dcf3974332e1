"""CPU cost of the collector at 100 containers: this process plus dockerd + containerd, per core.

Setup (not measured): a fleet of CONTAINERS running managed containers
(benchmarks/fleet.py), SETTLE_S of quiet, a scratch DB with a user and a
container row for each of them.

1. Baseline: BASELINE_S (30 s) with the fleet running and no collector:
   CPU seconds of dockerd + containerd (utime + stime from /proc/<pid>/stat
   of the processes named exactly `dockerd` and `containerd`; the shims and
   docker-proxy are not counted) and of this (sleeping) process.
2. Collector: WINDOW_S (60 s) of the real collector loop in this process:
   `Collector.sweep(store=True)` every INTERVAL_S (2 s, on a fixed schedule),
   plus a thread consuming the engine event stream (`runtime.events()`) and
   applying each event with `Collector.apply_event`, as services/collector_loop.py's
   `_follow_events` does. Measured: this process's CPU (time.process_time:
   all threads) and dockerd + containerd CPU.

core_fraction = (process + engine over the window - baseline scaled to the
window) / WINDOW_S, i.e. cores used on top of the idle fleet;
collector_core_fraction and engine_core_fraction are the two parts. Not
included: pushing results into Reflex states (the panel's publisher).

The image's HEALTHCHECK (every 30 s) runs in both windows; a 30 s baseline
holds one check per container, as each half of the 60 s window does.
Because the windows are easily disturbed, "engine_cpu_per_sweep_s" also
measures the engine side of a sweep (its one list call) in bursts of
BURST_CALLS back-to-back calls, and "core_fraction_burst" adds it, once per
interval, to the collector's own measured share.

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
from benchmarks.fleet import fleet

CONTAINERS = 100
INTERVAL_S = 2
WINDOW_S = 60.0
BASELINE_S = 30.0
SETTLE_S = 10.0
GOAL = 0.02
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


class EventConsumer:
    """The engine event stream, applied to the DB from a thread (like `_follow_events`)."""

    def __init__(self, collector):
        self.collector = collector
        self.stream = collector.runtime.events()
        self.count = 0
        self.thread = threading.Thread(target=self._pump, name="bench-events", daemon=True)

    def _pump(self) -> None:
        from saas_panel.errors import EngineUnavailable

        try:
            for event in self.stream:
                self.count += 1
                self.collector.apply_event(event)
        except EngineUnavailable:
            pass

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stream.close()
        self.thread.join(timeout=10)


class ForeignActivity:
    """Counts engine events that are not about the fleet (nor periodic healthchecks)."""

    def __init__(self, prefix: str):
        import docker

        self.prefix = prefix
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


def measure(pids: list[int], window: float, baseline_window: float, monitor: ForeignActivity) -> dict:
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
    collector.sweep(store=True)  # warm-up: imports, first compaction, first CPU sample
    sweeps = 0
    sweep_wall = 0.0
    with EventConsumer(collector) as events:
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
        # bursts of back-to-back calls, times one call per sweep (events not included).
        "engine_cpu_per_sweep_s": round(per_list, 5),
        "engine_core_fraction_burst": round(per_list / INTERVAL_S, 4),
        "core_fraction_burst": round(collector_part + per_list / INTERVAL_S, 4),
        "sweeps": sweeps,
        "sweep_wall_s": round(sweep_wall / max(sweeps, 1), 4),
        "events": events.count,
        "foreign_events": foreign,
        "quiet": foreign == 0,
        "goal_met": total <= GOAL,
    }


def run():
    quick = os.environ.get("BENCH_CPU_SECONDS")
    window = float(quick) if quick else WINDOW_S
    baseline_window = min(BASELINE_S, window)
    attempts = max(1, int(os.environ.get("BENCH_CPU_ATTEMPTS", ATTEMPTS)))
    pids = engine_pids()
    if not pids:
        raise RuntimeError("no dockerd/containerd process visible in /proc")

    results = []
    with fleet(CONTAINERS, tag="cpu") as f, scratch_database():
        from saas_panel.db import get_engine

        try:
            f.add_to_database()
            with ForeignActivity(f.prefix) as monitor:
                time.sleep(SETTLE_S)
                for attempt in range(1, attempts + 1):
                    result = measure(pids, window, baseline_window, monitor)
                    result["attempt"] = attempt
                    results.append(result)
                    if result["quiet"]:
                        break
                    print(
                        f"[bench collector_cpu] attempt {attempt}: {result['foreign_events']} foreign engine events "
                        f"(latest: {list(monitor.seen)}), core_fraction {result['core_fraction']}",
                        file=sys.stderr,
                    )
        finally:
            get_engine().dispose()
    print(f"[bench collector_cpu] fleet created in {f.create_s:.1f}s", file=sys.stderr)
    best = min(results, key=lambda r: (r["foreign_events"], r["attempt"]))
    best["attempts_core_fraction"] = [r["core_fraction"] for r in results]
    yield best
