"""The storage sweep against the real engine: what a user writes into /data shows in their measured usage."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from sqlmodel import select

from saas_panel.db import session_scope
from saas_panel.models import User
from saas_panel.services import provisioning, storage

MIB = 1024 * 1024
WRITTEN_MIB = 8
# The engine's figure trails the kernel's writeback, and Docker measures for one caller at a time
# (a sweep meeting another's measure changes nothing): sweep again until the figure is there.
WAIT_S = 15.0


def measure_until(username: str, enough: Callable[[int | None], bool]) -> int | None:
    """Sweep until `username`'s stored usage is `enough` (or WAIT_S pass); the last one stored."""
    deadline = time.monotonic() + WAIT_S
    while True:
        storage.sweep()
        with session_scope() as session:
            used = session.exec(select(User.storage_used_bytes).where(User.username == username)).one()
        if enough(used) or time.monotonic() > deadline:
            return used
        time.sleep(0.5)


@pytest.mark.parametrize("quota", ["loop", "none"], ids=["a capped file system", "a plain volume"])
def test_files_written_into_data_show_in_the_measured_usage(engine, make_user, docker_client, monkeypatch, quota):
    monkeypatch.setenv("SAAS_PANEL_STORAGE_QUOTA", quota)
    make_user("alice")
    provisioning.provision("alice")
    before = measure_until("alice", lambda used: used is not None)
    assert before is not None, "the volume was never measured"

    written = docker_client.containers.get(f"{engine}alice").exec_run(
        ["sh", "-c", f"dd if=/dev/urandom of=/data/blob bs=1M count={WRITTEN_MIB} 2>&1 && sync"]
    )
    assert written.exit_code == 0, written.output

    grown = measure_until("alice", lambda used: used - before >= WRITTEN_MIB * MIB) - before
    assert WRITTEN_MIB * MIB <= grown <= (WRITTEN_MIB + 1) * MIB, f"grew by {grown / MIB:.2f} MiB"
