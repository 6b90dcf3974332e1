"""How values are written for people: one format each, and the placeholder for a missing value."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from saas_panel import presentation
from saas_panel.presentation import PLACEHOLDER
from saas_panel.services.activity import ActivityRow
from saas_panel.services.containers import ContainerDetail, ContainerRow
from saas_panel.services.metrics import Point
from saas_panel.services.users import UserRow

AT = datetime(2030, 6, 1, 9, 5, 7, tzinfo=timezone.utc)
MB = 1024 * 1024


def test_moments():
    assert presentation.when(AT) == "2030-06-01 09:05"
    assert presentation.when_utc(AT) == "2030-06-01 09:05 UTC"
    assert presentation.timestamp(AT) == "2030-06-01 09:05:07"
    assert presentation.clock(AT) == "09:05:07 UTC"


@pytest.mark.parametrize("write", [presentation.when, presentation.when_utc, presentation.or_placeholder, presentation.short_id, presentation.memory, presentation.cpus])
def test_a_missing_value_is_the_placeholder(write):
    assert write(None) == PLACEHOLDER


def test_numbers():
    assert presentation.memory(128) == "128 MB"
    assert (presentation.cpus(1.5), presentation.cpus(2.0)) == ("1.5 CPU", "2 CPU")
    assert presentation.percent(12.5) == "12.5 %"
    assert presentation.megabytes(int(1.25 * MB)) == 1.2  # one decimal, as the charts show it
    assert [presentation.size(n) for n in (512, 1536, 3 * MB, 5 * 1024**4)] == ["512 B", "1.5 KB", "3.0 MB", "5.0 TB"]
    assert (presentation.or_placeholder(8080), presentation.or_placeholder(0)) == ("8080", PLACEHOLDER)
    assert presentation.short_id("0123456789abcdef") == "0123456789ab"


def test_chart_points_name_the_day_only_over_days():
    [point] = presentation.chart_points([Point(AT, 3.5, 64 * MB)])
    assert point == {"t": "09:05:07", "cpu": 3.5, "mem_mb": 64.0}
    assert presentation.chart_points([Point(AT, 3.5, 64 * MB)], over_days=True)[0]["t"] == "06-01 09:05"


def test_rows_keep_their_keys_and_write_their_values():
    user = UserRow(id=1, username="alice", email="a@example.com", role="user", is_active=True, created_at=AT, last_login_at=None,
                   container_state="none", mem_limit_mb=None, cpu_limit=None, idle_exempt=False, plan="Standard", storage_used_bytes=None, storage_mb=1024)
    shown = presentation.user_row(user)
    assert (shown["created_at"], shown["last_login_at"], shown["storage_used_bytes"]) == ("2030-06-01 09:05", PLACEHOLDER, PLACEHOLDER)
    assert (shown["mem_limit_mb"], shown["cpu_limit"]) == (None, None)  # the page writes "default" for these

    container = ContainerRow(id=2, name="c", owner="", image="img", state="stopped", host_port=None, engine_id=None, created_at=AT, started_at=None, last_activity_at=AT, error="")
    assert {k: v for k, v in presentation.container_row(container).items() if k in ("host_port", "started_at", "last_activity_at")} == {
        "host_port": PLACEHOLDER, "started_at": PLACEHOLDER, "last_activity_at": "2030-06-01 09:05"
    }

    log = ActivityRow(id=3, time=AT, actor="admin", action="stop", target="alice", ip="", outcome="success", details="")
    assert presentation.activity_row(log)["time"] == "2030-06-01 09:05:07"


def test_container_detail_writes_what_the_engine_did_not_say_as_the_placeholder():
    detail = ContainerDetail(id=2, name="c", owner="", image="img", state="error", engine_state="not found in the engine", engine_id=None, host_port=None,
                             mem_limit_mb=None, cpu_limit=None, pids_limit=None, created_at=AT, started_at=None, error="gone", labels=[], logs="")
    shown = presentation.container_detail(detail)
    assert shown["owner"] == presentation.DELETED_OWNER
    assert {shown[k] for k in ("engine_id", "host_port", "mem_limit_mb", "cpu_limit", "pids_limit", "started_at")} == {PLACEHOLDER}
    found = presentation.container_detail(ContainerDetail(**(vars(detail) | {"owner": "alice", "engine_id": "f" * 64, "mem_limit_mb": 128, "cpu_limit": 0.5, "pids_limit": 64})))
    assert (found["owner"], found["engine_id"], found["mem_limit_mb"], found["cpu_limit"], found["pids_limit"]) == ("alice", "f" * 12, "128 MB", "0.5 CPU", "64")
