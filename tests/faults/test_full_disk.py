"""The SQLite database on a small file system of its own (an ext4 image on a loop device), filled up:
signups and actions are refused with a message (a 503 with it over the API, never a 500), nothing
is half written (`PRAGMA integrity_check`), and once space is freed everything works again."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from saas_panel import migrations
from saas_panel.api.app import create_api, outermost
from saas_panel.db import DISK_FULL, _engine_for
from saas_panel.errors import DatabaseUnavailable
from saas_panel.services import api_tokens, auth, plans, users
from tests.prerequisites import skip_outside_ci

pytestmark = pytest.mark.faults

DISK_MB = 24
CHUNK = 1024 * 1024


@pytest.fixture
def small_disk(tmp_path, monkeypatch):
    """A mounted DISK_MB ext4 file system holding the panel's SQLite database (REFLEX_DB_URL),
    unmounted (and its loop device detached) afterwards."""
    if os.geteuid() != 0 or not shutil.which("mkfs.ext4"):
        skip_outside_ci("mounting a file system needs root and mkfs.ext4 (e2fsprogs)")
    image, mountpoint = tmp_path / "disk.img", tmp_path / "disk"
    mountpoint.mkdir()
    with image.open("wb") as file:
        file.truncate(DISK_MB * CHUNK)
    subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", str(image)], check=True)
    mounted = subprocess.run(["mount", "-o", "loop", str(image), str(mountpoint)], capture_output=True, text=True)
    if mounted.returncode != 0:
        skip_outside_ci(f"no loop device to mount a file system on: {mounted.stderr.strip()}")
    url = f"sqlite:///{mountpoint / 'panel.db'}"
    monkeypatch.setenv("REFLEX_DB_URL", url)
    try:
        yield mountpoint
    finally:
        _engine_for(url).dispose()  # its pooled connections hold the file open
        subprocess.run(["umount", str(mountpoint)], check=True)  # `mount -o loop` detaches its device with it


def fill(directory: Path) -> Path:
    """A file taking every free byte of `directory`'s file system."""
    filler = directory / "filler"
    with filler.open("wb", buffering=0) as file:
        for size in (CHUNK, 4096, 1):
            try:
                while True:
                    file.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    return filler


def integrity(database: Path) -> str:
    with closing(sqlite3.connect(database)) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


def test_a_full_disk_refuses_changes_with_a_message_and_works_again_once_freed(small_disk, monkeypatch):
    database = small_disk / "panel.db"
    monkeypatch.setenv("SAAS_PANEL_BCRYPT_ROUNDS", "4")
    migrations.upgrade()
    users.ensure_admin("admin password")
    plans.ensure_default()
    admin = auth.authenticate("admin", "admin password")
    alice = auth.register("alice", "alice@example.com", "alice password")
    api = TestClient(outermost(create_api()))
    api.headers["Authorization"] = f"Bearer {api_tokens.create(admin, 'faults', 'admin', 1).token}"
    with closing(sqlite3.connect(database)) as connection:  # every later write has to grow the write-ahead log
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    filler = fill(small_disk)
    with pytest.raises(DatabaseUnavailable) as refused:
        auth.register("bob", "bob@example.com", "bob password")
    assert str(refused.value) == DISK_FULL
    with pytest.raises(DatabaseUnavailable):
        users.set_idle_exempt(admin, alice.id, True)
    response = api.post("/api/provision", json={"username": "carol", "email": "carol@example.com"})
    assert (response.status_code, response.json()) == (503, {"detail": DISK_FULL})
    assert users.find_user("alice").idle_exempt is False  # reading still works, and nothing was written
    assert users.find_user("bob") is None and users.find_user("carol") is None
    assert integrity(database) == "ok"

    filler.unlink()
    auth.register("bob", "bob@example.com", "bob password")
    users.set_idle_exempt(admin, alice.id, True)
    assert users.find_user("alice").idle_exempt is True and users.find_user("bob") is not None
    assert integrity(database) == "ok"
