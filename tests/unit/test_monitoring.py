"""CPU% from counters, cgroup v1/v2 parsing, and metric retention."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlmodel import func, select

from saas_panel.db import session_scope
from saas_panel.models import Container, Metric, utcnow
from saas_panel.runtime.base import UsageSample
from saas_panel.runtime.cgroups import CgroupReader, cpu_percent
from saas_panel.services import metrics

CID = "c0ffee" * 10 + "abcd"


def test_cpu_percent_from_known_counters():
    before = UsageSample(cpu_ns=1_000_000_000, mem_bytes=0, mem_limit_bytes=None, read_at=100.0)
    after = UsageSample(cpu_ns=1_500_000_000, mem_bytes=0, mem_limit_bytes=None, read_at=102.0)
    assert cpu_percent(before, after) == 25.0  # 0.5 s of CPU over 2 s
    two_cores = UsageSample(cpu_ns=5_000_000_000, mem_bytes=0, mem_limit_bytes=None, read_at=102.0)
    assert cpu_percent(before, two_cores) == 200.0
    assert cpu_percent(None, after) == 0.0
    restarted = UsageSample(cpu_ns=10, mem_bytes=0, mem_limit_bytes=None, read_at=103.0)
    assert cpu_percent(after, restarted) == 0.0


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_cgroup_v1_reader(tmp_path):
    _write(tmp_path / "cpuacct" / "docker" / CID / "cpuacct.usage", "123456789\n")
    memory = tmp_path / "memory" / "docker" / CID
    _write(memory / "memory.usage_in_bytes", "50000000\n")
    _write(memory / "memory.stat", "cache 100\ntotal_inactive_file 10000000\ntotal_rss 1\n")
    _write(memory / "memory.limit_in_bytes", str(128 * 1024 * 1024))
    reader = CgroupReader(tmp_path)
    assert reader.version == 1
    sample = reader.read(CID)
    assert (sample.cpu_ns, sample.mem_bytes, sample.mem_limit_bytes) == (123456789, 40000000, 128 * 1024 * 1024)
    _write(memory / "memory.limit_in_bytes", "9223372036854771712")
    assert reader.read(CID).mem_limit_bytes is None  # unlimited
    assert reader.read("unknown") is None


def test_cgroup_v2_reader_systemd_layout(tmp_path):
    _write(tmp_path / "cgroup.controllers", "cpu memory pids\n")
    scope = tmp_path / "system.slice" / f"docker-{CID}.scope"
    _write(scope / "cpu.stat", "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n")
    _write(scope / "memory.current", "30000000\n")
    _write(scope / "memory.stat", "anon 1\ninactive_file 5000000\n")
    _write(scope / "memory.max", "max\n")
    reader = CgroupReader(tmp_path)
    assert reader.version == 2
    sample = reader.read(CID)
    assert (sample.cpu_ns, sample.mem_bytes, sample.mem_limit_bytes) == (2_500_000, 25_000_000, None)


def test_stat_keys_are_matched_whole_at_any_line(tmp_path):
    _write(tmp_path / "cgroup.controllers", "memory\n")
    scope = tmp_path / "docker" / CID
    _write(scope / "cpu.stat", "usage_usec 7\n")  # first line, no trailing text
    _write(scope / "memory.current", "100\n")
    _write(scope / "memory.stat", "total_inactive_file 90\ninactive_file 40")  # last line, no newline
    _write(scope / "memory.max", "max\n")
    sample = CgroupReader(tmp_path).read(CID)
    assert (sample.cpu_ns, sample.mem_bytes) == (7000, 60)


def _v1_cgroup(root: Path, container_id: str, cpu_ns: int) -> None:
    _write(root / "cpuacct" / "docker" / container_id / "cpuacct.usage", f"{cpu_ns}\n")
    memory = root / "memory" / "docker" / container_id
    _write(memory / "memory.usage_in_bytes", "100\n")
    _write(memory / "memory.stat", "total_inactive_file 40\n")
    _write(memory / "memory.limit_in_bytes", "1000\n")


def test_open_files_are_read_again_and_past_the_budget_files_are_read_by_path(tmp_path):
    reader = CgroupReader(tmp_path, fd_budget=4)  # one container's files
    _v1_cgroup(tmp_path, CID, 1)
    _v1_cgroup(tmp_path, "b" * 64, 2)
    assert [reader.read(CID).cpu_ns, reader.read("b" * 64).cpu_ns] == [1, 2]
    _v1_cgroup(tmp_path, CID, 11)
    _v1_cgroup(tmp_path, "b" * 64, 12)
    assert [reader.read(CID).cpu_ns, reader.read("b" * 64).cpu_ns] == [11, 12]
    reader.keep_only(["b" * 64])  # CID's files closed: b's now fit in the budget
    _v1_cgroup(tmp_path, "b" * 64, 13)
    assert reader.read("b" * 64).cpu_ns == 13


def test_cgroup_reader_survives_garbage(tmp_path):
    _write(tmp_path / "cpuacct" / "docker" / CID / "cpuacct.usage", "not a number")
    _write(tmp_path / "memory" / "docker" / CID / "memory.usage_in_bytes", "1")
    assert CgroupReader(tmp_path).read(CID) is None


def _container_row() -> int:
    with session_scope() as session:
        row = Container(name="c-metrics", image="img")
        session.add(row)
        session.flush()
        return row.id


def test_rollups_and_retention(db, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_METRICS_RAW_MINUTES", "60")
    monkeypatch.setenv("SAAS_PANEL_METRICS_ROLLUP_DAYS", "7")
    cid = _container_row()
    now = utcnow().replace(second=30, microsecond=0)
    old_minute = (now - timedelta(hours=3)).replace(second=0)
    for second, cpu, mem in ((0, 10.0, 100), (20, 20.0, 200), (40, 30.0, 300)):
        metrics.record([(cid, cpu, mem, 1000)], at=old_minute + timedelta(seconds=second))
    metrics.record([(cid, 50.0, 500, 1000)], at=now - timedelta(minutes=5))  # still raw
    with session_scope() as session:
        session.add(Metric(container_id=cid, ts=now - timedelta(days=8), resolution=60, cpu_percent=1, mem_bytes=1))

    folded, expired = metrics.compact(now)
    assert (folded, expired) == (3, 1)
    with session_scope() as session:
        rows = session.exec(select(Metric).order_by(Metric.ts)).all()
    assert [(r.resolution, r.cpu_percent, r.mem_bytes) for r in rows] == [(60, 20.0, 200), (0, 50.0, 500)]
    assert rows[0].ts == old_minute

    # The series shows the rollup where raw samples are gone, then raw samples.
    series = metrics.container_series(cid, timedelta(days=1), now=now)
    assert [p.cpu_percent for p in series] == [20.0, 50.0]
    assert metrics.compact(now) == (0, 0)  # idempotent


def test_table_stays_bounded_under_many_sweeps(db, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_METRICS_RAW_MINUTES", "10")
    cid = _container_row()
    start = utcnow() - timedelta(hours=2)
    for i in range(0, 2 * 3600, 5):  # two hours of 5-second samples
        metrics.record([(cid, 1.0, 1, None)], at=start + timedelta(seconds=i))
    metrics.compact()
    with session_scope() as session:
        raw = session.exec(select(func.count()).select_from(Metric).where(Metric.resolution == 0)).one()
        rollups = session.exec(select(func.count()).select_from(Metric).where(Metric.resolution == 60)).one()
    assert raw <= 12 * 11 and 105 <= rollups <= 111


def test_series_are_downsampled_for_browsers(db):
    cid = _container_row()
    start = utcnow() - timedelta(minutes=50)
    for i in range(1000):
        metrics.record([(cid, float(i % 10), i, None)], at=start + timedelta(seconds=i * 2))
    series = metrics.container_series(cid, timedelta(hours=1))
    assert 0 < len(series) <= metrics.MAX_POINTS
    platform = metrics.platform_series(timedelta(hours=1))
    assert 0 < len(platform) <= metrics.MAX_POINTS
