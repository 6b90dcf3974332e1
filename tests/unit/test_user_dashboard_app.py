"""Unit tests for the in-container dashboard's cgroup readers and CPU maths."""

import importlib.util
from pathlib import Path

import pytest

APP_PATH = Path(__file__).resolve().parents[2] / "user_dashboard" / "app.py"


def _load_app():
    spec = importlib.util.spec_from_file_location("user_dashboard_app", APP_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


app = _load_app()


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


# --- memory ---

def test_memory_v2_with_limit(tmp_path):
    _write(tmp_path, "memory.current", "12345678\n")
    _write(tmp_path, "memory.max", "134217728\n")
    assert app.memory_usage(tmp_path) == {"usage_bytes": 12345678, "limit_bytes": 134217728}


def test_memory_v2_unlimited(tmp_path):
    _write(tmp_path, "memory.current", "4096\n")
    _write(tmp_path, "memory.max", "max\n")
    assert app.memory_usage(tmp_path) == {"usage_bytes": 4096, "limit_bytes": None}


def test_memory_v2_unreadable_max(tmp_path):
    _write(tmp_path, "memory.current", "4096\n")
    assert app.memory_usage(tmp_path) == {"usage_bytes": 4096, "limit_bytes": None}


def test_memory_v1_subtracts_inactive_file(tmp_path):
    _write(tmp_path, "memory/memory.usage_in_bytes", "10000000\n")
    _write(tmp_path, "memory/memory.stat", "cache 5000\ninactive_file 999\ntotal_inactive_file 2000000\n")
    _write(tmp_path, "memory/memory.limit_in_bytes", "134217728\n")
    assert app.memory_usage(tmp_path) == {"usage_bytes": 8000000, "limit_bytes": 134217728}


def test_memory_v1_unlimited_and_no_stat(tmp_path):
    _write(tmp_path, "memory/memory.usage_in_bytes", "10000000\n")
    _write(tmp_path, "memory/memory.limit_in_bytes", "9223372036854771712\n")
    assert app.memory_usage(tmp_path) == {"usage_bytes": 10000000, "limit_bytes": None}


def test_memory_missing_files(tmp_path):
    assert app.memory_usage(tmp_path) == {"usage_bytes": None, "limit_bytes": None}


def test_memory_garbage_is_none(tmp_path):
    _write(tmp_path, "memory.current", "not a number\n")
    _write(tmp_path, "memory.max", "also not\n")
    assert app.memory_usage(tmp_path) == {"usage_bytes": None, "limit_bytes": None}


# --- cpu counters ---

def test_cpu_v2_usage_usec_in_ns(tmp_path):
    _write(tmp_path, "cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n")
    assert app.cpu_usage_ns(tmp_path) == 1_500_000


def test_cpu_v1_cpuacct(tmp_path):
    _write(tmp_path, "cpuacct/cpuacct.usage", "987654321\n")
    assert app.cpu_usage_ns(tmp_path) == 987654321


def test_cpu_v1_combined_mount(tmp_path):
    _write(tmp_path, "cpu,cpuacct/cpuacct.usage", "42\n")
    assert app.cpu_usage_ns(tmp_path) == 42


def test_cpu_missing(tmp_path):
    assert app.cpu_usage_ns(tmp_path) is None


# --- cpu percent ---

@pytest.mark.parametrize(
    ("prev", "cur", "expected"),
    [
        (None, (1_000, 10.0), 0.0),                          # first reading
        ((0, 10.0), (500_000_000, 11.0), 50.0),               # half a core for 1 s
        ((0, 10.0), (4_000_000_000, 12.0), 200.0),            # two cores for 2 s
        ((1_000, 10.0), (1_000, 10.0), 0.0),                  # no wall time elapsed
        ((5_000, 10.0), (1_000, 11.0), 0.0),                  # counter went backwards
        ((0, 10.0), None, None),                              # counter unreadable
    ],
)
def test_cpu_percent(prev, cur, expected):
    assert app.cpu_percent(prev, cur) == expected


def test_cpu_sampler_keeps_previous_reading(tmp_path, monkeypatch):
    clock = iter([100.0, 102.0])
    monkeypatch.setattr(app.time, "monotonic", lambda: next(clock))
    sampler = app.CpuSampler(tmp_path)
    _write(tmp_path, "cpu.stat", "usage_usec 1000000\n")
    assert sampler.sample() == 0.0
    _write(tmp_path, "cpu.stat", "usage_usec 2000000\n")
    assert sampler.sample() == 50.0  # 1 s of CPU over 2 s of wall time


def test_cpu_sampler_unreadable(tmp_path):
    assert app.CpuSampler(tmp_path).sample() is None


# --- rendering ---

def test_render_page_escapes_everything():
    info = {
        "username": "<script>alert(1)</script>",
        "container_id": "abc\"def",
        "started_at": "2024-01-01T00:00:00+00:00",
        "uptime_s": 3725.0,
        "cpu_percent": None,
        "memory": {"usage_bytes": 10 * 1024 * 1024, "limit_bytes": None},
        "recent_activity": [{"method": "GET", "path": "/<img src=x>", "time": "00:00:01"}],
    }
    page = app.render_page(info)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<img" not in page
    assert "01:02:05" in page and "10.0 MiB" in page
