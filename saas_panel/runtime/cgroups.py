"""Container CPU and memory counters read straight from the host's cgroup files.

Reading a few small files per container costs microseconds, where the stats
API costs about a second per call; it works whenever the panel runs on the
engine's host (or with /sys/fs/cgroup mounted). cgroup v1 and v2 both.
Files are read as raw bytes with os.read, and each container's directories
are found once: a sweep of 100 containers reads 400 files in a few ms.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from saas_panel.runtime.base import UsageSample

V1_UNLIMITED_FLOOR = 1 << 60  # v1 reports "no limit" as a page-rounded 2^63
READ_SIZE = 8192  # memory.stat is a few KB


def cpu_percent(previous: UsageSample | None, current: UsageSample) -> float:
    """Share of one core used between two samples, in percent (200 = two full cores)."""
    if previous is None:
        return 0.0
    elapsed_ns = (current.read_at - previous.read_at) * 1e9
    used_ns = current.cpu_ns - previous.cpu_ns
    if elapsed_ns <= 0 or used_ns < 0:  # a restart resets the counter
        return 0.0
    return round(used_ns / elapsed_ns * 100, 2)


def _read(path: str) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(fd, READ_SIZE)
    except OSError:
        return None
    finally:
        os.close(fd)


def _read_int(path: str) -> int | None:
    """The number in a one-value file; None if missing, garbage or "max" (v2's no limit)."""
    raw = _read(path)
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


def _stat_value(path: str, key: bytes) -> int:
    """The value of one `key value` line of a stat file (0 when absent)."""
    raw = _read(path)
    if raw is None:
        return 0
    needle = key + b" "
    if raw.startswith(needle):
        start = len(needle)
    else:
        at = raw.find(b"\n" + needle)
        if at == -1:
            return 0
        start = at + 1 + len(needle)
    end = raw.find(b"\n", start)
    try:
        return int(raw[start : end if end != -1 else None])
    except ValueError:
        return 0


class CgroupReader:
    """Finds each container's cgroup directory under `root` and reads its counters."""

    def __init__(self, root: Path = Path("/sys/fs/cgroup")):
        self.root = root
        self.version = 2 if (root / "cgroup.controllers").exists() else 1
        self._dirs: dict[str, tuple[str, str]] = {}  # container id -> (cpu dir, memory dir)

    def _find_dirs(self, container_id: str) -> tuple[str, str] | None:
        if self.version == 2:
            candidates = [(self.root / p, self.root / p) for p in (f"system.slice/docker-{container_id}.scope", f"docker/{container_id}")]
        else:
            candidates = [
                (self.root / "cpuacct" / p, self.root / "memory" / p)
                for p in (f"docker/{container_id}", f"system.slice/docker-{container_id}.scope")
            ]
        for cpu, memory in candidates:
            if cpu.is_dir() and memory.is_dir():
                return str(cpu), str(memory)
        return None

    def _dirs_of(self, container_id: str) -> tuple[str, str] | None:
        dirs = self._dirs.get(container_id)
        if dirs is None:
            dirs = self._find_dirs(container_id)
            if dirs is not None:
                self._dirs[container_id] = dirs
        return dirs

    def keep_only(self, container_ids: list[str]) -> None:
        """Forget the directories of every container but these (the running ones: a stopped
        container's are found again when it starts)."""
        if len(self._dirs) > len(container_ids):
            wanted = set(container_ids)
            self._dirs = {cid: dirs for cid, dirs in self._dirs.items() if cid in wanted}

    def read(self, container_id: str) -> UsageSample | None:
        """Counters of one running container, or None if its cgroup is not visible here."""
        dirs = self._dirs_of(container_id)
        if dirs is None:
            return None
        sample = self._read_v2(*dirs) if self.version == 2 else self._read_v1(*dirs)
        if sample is None:  # the container stopped: its cgroup went away
            self._dirs.pop(container_id, None)
        return sample

    @staticmethod
    def _read_v1(cpu_dir: str, memory_dir: str) -> UsageSample | None:
        cpu_ns = _read_int(f"{cpu_dir}/cpuacct.usage")
        usage = _read_int(f"{memory_dir}/memory.usage_in_bytes")
        if cpu_ns is None or usage is None:
            return None
        limit = _read_int(f"{memory_dir}/memory.limit_in_bytes")
        inactive = _stat_value(f"{memory_dir}/memory.stat", b"total_inactive_file")
        return UsageSample(
            cpu_ns=cpu_ns,
            mem_bytes=max(0, usage - inactive),
            mem_limit_bytes=limit if limit is not None and limit < V1_UNLIMITED_FLOOR else None,
            read_at=time.monotonic(),
        )

    @staticmethod
    def _read_v2(path: str, _same: str) -> UsageSample | None:
        usage = _read_int(f"{path}/memory.current")
        if usage is None:
            return None
        return UsageSample(
            cpu_ns=_stat_value(f"{path}/cpu.stat", b"usage_usec") * 1000,
            mem_bytes=max(0, usage - _stat_value(f"{path}/memory.stat", b"inactive_file")),
            mem_limit_bytes=_read_int(f"{path}/memory.max"),
            read_at=time.monotonic(),
        )
