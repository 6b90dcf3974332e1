"""Capacity: memory and CPU of an idle user app, and the panel's own cost per 100 users, on this host's engine.

`idle app`: a fleet of APPS running user containers (benchmarks/fleet.py: `DockerRuntime.create`,
the default limits), SETTLE_S of quiet, then a window of WINDOW_S:
- `mem_mb`: each container's working set at the end of the window (cgroup usage minus inactive
  file pages, read as the collector reads it), median and max;
- `cpu_percent`: the share of one core each container's cgroup used over the window (its image's
  health check, every 30 s, runs inside it and is counted), median and max;
- `shim_mb`: the PSS of each container's containerd-shim, the engine's process per container on
  the host, outside the container's cgroup; median.

`panel`, at 0 and at USERS users: a real panel (devtools/panel.py `running_panel`: reflex in
production mode and the edge in front) on a fresh DB, with the default metrics interval. At USERS,
a fleet of USERS running user containers with a user and a running container row each in the
panel's DB, so that its collector sweeps them, reconciles them and stores their metrics every
interval (no browser open). After SETTLE_S, over WINDOW_S, of the panel's process tree (the reflex
process and every descendant, found again at each count) and of the edge (Caddy):
- `rss_mb` / `pss_mb`: sums of VmRSS / PSS (shared pages divided between their users) at the end;
- `cpu_percent`: utime + stime over the window, in % of one core.

`panel per 100 users`: the differences between the two counts, scaled to 100 users.

Everything made here (containers, the panel, its DB) is removed on exit, also on an error or Ctrl-C.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.bench_collector_cpu import cpu_seconds
from benchmarks.common import environment
from benchmarks.fleet import fleet

APPS = 10
USERS = 100
SETTLE_S = 20.0
WINDOW_S = 30.0
ADMIN_PASSWORD = "bench admin password"
MB = 1024 * 1024


def _status_kb(pid: int, path: str, key: str) -> int:
    """The kB value of `key:` in /proc/<pid>/<path> (0 when the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/{path}").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _parent(pid: int) -> int | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(raw[raw.rindex(")") + 2 :].split()[1])


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parent = _parent(int(entry.name))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def memory_mb(pids: list[int]) -> tuple[float, float]:
    """(sum of RSS, sum of PSS) of `pids`, in MB."""
    rss = sum(_status_kb(pid, "status", "VmRSS") for pid in pids)
    pss = sum(_status_kb(pid, "smaps_rollup", "Pss") for pid in pids)
    return round(rss / 1024, 1), round(pss / 1024, 1)


def idle_app_line() -> dict:
    import docker

    from saas_panel.runtime.cgroups import CgroupReader, cpu_percent

    reader = CgroupReader()
    client = docker.from_env(timeout=60)
    with fleet(APPS, tag="capacity") as apps:
        time.sleep(SETTLE_S)
        first = {cid: reader.read(cid) for cid in apps.ids}
        time.sleep(WINDOW_S)
        last = {cid: reader.read(cid) for cid in apps.ids}
        shims = [_parent(client.api.inspect_container(cid)["State"]["Pid"]) for cid in apps.ids]
        shim_kb = [_status_kb(pid, "smaps_rollup", "Pss") for pid in shims if pid]
    client.close()
    mem = [sample.mem_bytes / MB for sample in last.values() if sample]
    cpu = [cpu_percent(first[cid], sample) for cid, sample in last.items() if sample and first[cid]]
    return {
        "bench": "capacity",
        "what": "idle app",
        "apps": len(mem),
        "mem_mb": round(statistics.median(mem), 1),
        "mem_max_mb": round(max(mem), 1),
        "cpu_percent": round(statistics.median(cpu), 3),
        "cpu_max_percent": round(max(cpu), 3),
        "shim_mb": round(statistics.median(shim_kb) / 1024, 1),
        "window_s": WINDOW_S,
    }


def panel_line(panel, users: int) -> dict:
    time.sleep(SETTLE_S)
    tree, edge = process_tree(panel.process.pid), process_tree(panel.edge.pid)
    start, before, edge_before = time.monotonic(), cpu_seconds(tree), cpu_seconds(edge)
    time.sleep(WINDOW_S)
    elapsed = time.monotonic() - start
    rss, pss = memory_mb(tree)
    edge_rss, _ = memory_mb(edge)
    return {
        "bench": "capacity",
        "what": "panel",
        "users": users,
        "processes": len(tree),
        "rss_mb": rss,
        "pss_mb": pss,
        "cpu_percent": round((cpu_seconds(tree) - before) / elapsed * 100, 2),
        "edge_rss_mb": edge_rss,
        "edge_cpu_percent": round((cpu_seconds(edge) - edge_before) / elapsed * 100, 2),
        "window_s": WINDOW_S,
    }


def run():
    from devtools.panel import running_panel

    yield idle_app_line()
    with tempfile.TemporaryDirectory(prefix="saas-bench-capacity-") as workdir:
        with running_panel(Path(workdir), ADMIN_PASSWORD, container_prefix=f"bench-cap-{uuid.uuid4().hex[:6]}-") as panel:
            empty = panel_line(panel, 0)
            yield empty
            with fleet(USERS, tag="capacity") as apps, environment({"REFLEX_DB_URL": panel.db_url}):
                apps.add_to_database()
                loaded = panel_line(panel, len(apps.ids))
    yield loaded
    scale = 100 / loaded["users"]
    yield {
        "bench": "capacity",
        "what": "panel per 100 users",
        "rss_mb": round((loaded["rss_mb"] - empty["rss_mb"]) * scale, 1),
        "pss_mb": round((loaded["pss_mb"] - empty["pss_mb"]) * scale, 1),
        "cpu_percent": round((loaded["cpu_percent"] - empty["cpu_percent"]) * scale, 2),
        "edge_cpu_percent": round((loaded["edge_cpu_percent"] - empty["edge_cpu_percent"]) * scale, 2),
    }
