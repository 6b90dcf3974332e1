"""`python -m saas_panel backup` and `restore`, on the run's database (SQLite in the first pass of
`make test`, PostgreSQL in the second), each test in a database of its own."""

from __future__ import annotations

import io
import json
import os
import stat
import tarfile
import threading
import time
import uuid
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import select

from saas_panel import migrations
from saas_panel.__main__ import main
from saas_panel.db import _engine_for, build_engine, session_scope
from saas_panel.models import ActivityLog, Container, Node, User
from saas_panel.services import auth, backup

PASSWORD = "correct horse battery"
DEAD_POSTGRES = "postgresql+psycopg://saas:hunter2-not-shown@127.0.0.1:1/saas_panel"
WRITES_BEFORE_AND_AFTER = 20
WAIT_S = 120
HEAD = backup._revisions().get_current_head()


@pytest.fixture
def panel_db(tmp_path, monkeypatch):
    """A migrated panel database of this test's own: a SQLite file, or a scratch database on the
    test PostgreSQL server (SAAS_PANEL_TEST_DB_URL), dropped afterwards."""
    monkeypatch.setenv("SAAS_PANEL_BCRYPT_ROUNDS", "4")
    monkeypatch.delenv("SAAS_PANEL_ADMIN_PASSWORD", raising=False)
    server = os.environ.get("SAAS_PANEL_TEST_DB_URL")
    if not server:
        url = f"sqlite:///{tmp_path / 'panel.db'}"
        monkeypatch.setenv("REFLEX_DB_URL", url)
        migrations.upgrade()
        yield url
        return
    name = f"backup_test_{uuid.uuid4().hex[:12]}"
    maintenance = build_engine(server).execution_options(isolation_level="AUTOCOMMIT")
    with maintenance.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    monkeypatch.setenv("REFLEX_DB_URL", url)
    try:
        migrations.upgrade()
        yield url
    finally:
        _engine_for(url).dispose()
        with maintenance.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        maintenance.dispose()


class Writer(threading.Thread):
    """The panel at work: user wNNNNN with its container row, one transaction each, until stopped."""

    def __init__(self, password_hash: str):
        super().__init__(daemon=True)
        self.password_hash, self.written, self.error = password_hash, 0, None
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                name = f"w{self.written:05d}"
                with session_scope() as session:
                    user = User(username=name, host_label=name, email=f"{name}@example.com", password_hash=self.password_hash)
                    session.add(user)
                    session.flush()
                    session.add(Container(user_id=user.id, name=f"c-{name}", image="saas-panel/test"))
                self.written += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + WAIT_S
        while self.written < count and self.error is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.error is None and self.written >= count, f"the writer wrote {self.written} rows ({self.error!r})"

    def stop(self) -> None:
        self.stopping.set()
        self.join(WAIT_S)
        assert self.error is None


def _writer_rows() -> list[tuple[str, int, str | None, int | None]]:
    with session_scope() as session:
        return list(session.exec(
            select(User.username, User.id, Container.name, Container.user_id)
            .outerjoin(Container, Container.user_id == User.id)
            .where(User.username.like("w%"))
        ).all())


def _usernames() -> set[str]:
    with session_scope() as session:
        return set(session.exec(select(User.username)).all())


def _logged(action: str) -> list[ActivityLog]:
    with session_scope() as session:
        return list(session.exec(select(ActivityLog).where(ActivityLog.action == action).order_by(ActivityLog.id)).all())


def _files(directory: Path) -> set[Path]:
    return set(directory.rglob("*"))


def _rewritten(original: Path, copy: Path, payload_byte_flipped: bool = False, **manifest_changes) -> Path:
    """A copy of a backup with its manifest changed (the payload named after the manifest's kind)."""
    with tarfile.open(original) as tar:
        manifest = json.loads(tar.extractfile(backup.MANIFEST).read())
        payload = bytearray(tar.extractfile(backup.PAYLOADS[manifest["database"]]).read())
    manifest.update(manifest_changes)
    if payload_byte_flipped:
        payload[len(payload) // 2] ^= 0xFF
    with tarfile.open(copy, "w") as tar:
        for name, data in ((backup.MANIFEST, json.dumps(manifest).encode()), (backup.PAYLOADS[manifest["database"]], bytes(payload))):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return copy


@pytest.fixture
def backup_file(panel_db, tmp_path) -> Path:
    """A backup of a panel with one account, alice."""
    auth.register("alice", "alice@example.com", PASSWORD)
    path = tmp_path / "panel.backup"
    assert main(["backup", str(path)]) == 0
    return path


def test_a_backup_taken_while_the_panel_writes_restores_whole_on_a_new_secret(panel_db, tmp_path, monkeypatch, capsys):
    alice = auth.register("alice", "alice@example.com", PASSWORD)
    _, alice_session = auth.login("alice", PASSWORD)
    with session_scope() as session:
        writer = Writer(session.get(User, alice.id).password_hash)
    writer.start()
    writer.wait_for(WRITES_BEFORE_AND_AFTER)
    committed_before = writer.written
    path = tmp_path / "backups" / "panel.backup"
    path.parent.mkdir()

    assert main(["backup", str(path)]) == 0

    written_by_then = writer.written
    writer.wait_for(written_by_then + WRITES_BEFORE_AND_AFTER)
    writer.stop()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert _files(path.parent) == {path}  # no staging left beside it
    with tarfile.open(path) as tar:
        manifest = json.loads(tar.extractfile(backup.MANIFEST).read())
    assert manifest["database"] == make_url(panel_db).get_backend_name()
    assert manifest["alembic_revision"] == HEAD
    [logged_backup] = _logged("backup")
    assert (logged_backup.actor, logged_backup.target) == ("system", str(path))

    # A new machine: another server secret. Nothing in the database depends on it.
    monkeypatch.setenv("SAAS_PANEL_SECRET_FILE", str(tmp_path / "new-machine-secret"))
    assert main(["restore", str(path), "--yes"]) == 0
    assert "Restored the backup" in capsys.readouterr().out

    rows = _writer_rows()
    restored = sorted(int(username[1:]) for username, *_ in rows)
    assert restored == list(range(len(restored)))  # a prefix of what the writer committed, with no gap
    assert committed_before <= len(restored) <= written_by_then < writer.written
    assert all(name == f"c-{username}" and owner == user_id for username, user_id, name, owner in rows)
    assert auth.resolve_session(alice_session).username == "alice"
    assert auth.login("alice", PASSWORD)[0].username == "alice"
    assert _logged("backup") == []  # written after the snapshot: not in the backup
    [logged_restore] = _logged("restore")
    assert (logged_restore.actor, logged_restore.target) == ("system", str(path))


def test_an_older_backup_replaces_newer_tables_and_is_migrated(panel_db, tmp_path):
    config = migrations.alembic_config()
    command.downgrade(config, "0006")
    with session_scope() as session:  # the columns of users at 0006 (the model has more by now)
        session.exec(text(
            "INSERT INTO users (username, host_label, email, password_hash, role, is_active, created_at, idle_exempt, storage_warned) "
            "VALUES ('before', 'before', 'before@example.com', 'x', 'user', true, CURRENT_TIMESTAMP, false, false)"
        ))
    path = tmp_path / "old.backup"
    assert main(["backup", str(path)]) == 0
    migrations.upgrade()
    auth.register("after", "after@example.com", PASSWORD)
    with session_scope() as session:
        session.add(Node(hostname="node-1"))

    assert main(["restore", str(path), "--yes"]) == 0

    assert {"before", "after"} & _usernames() == {"before"}
    with session_scope() as session:
        assert session.exec(text("SELECT version_num FROM alembic_version")).one()[0] == HEAD
        assert session.exec(select(Node)).all() == []
    [logged_restore] = _logged("restore")
    assert f"revision 0006, migrated to {HEAD}" in logged_restore.details


def test_backup_refuses_to_overwrite_a_file_unless_forced(backup_file, capsys):
    backup_file.write_text("keep me")

    assert main(["backup", str(backup_file)]) == 1
    assert "already exists; pass --force" in capsys.readouterr().err
    assert backup_file.read_text() == "keep me"

    assert main(["backup", str(backup_file), "--force"]) == 0
    assert stat.S_IMODE(backup_file.stat().st_mode) == 0o600
    assert main(["restore", str(backup_file), "--yes"]) == 0


@pytest.mark.parametrize("where, message", [
    ("missing/panel.backup", "No such file or directory"),
    ("a-file/panel.backup", "Not a directory"),
    ("a-directory", "is a directory"),
])
def test_backup_to_a_place_it_cannot_write_leaves_nothing(panel_db, tmp_path, capsys, where, message):
    (tmp_path / "a-file").write_text("")
    (tmp_path / "a-directory").mkdir()
    before = _files(tmp_path)

    assert main(["backup", str(tmp_path / where)]) == 1

    assert message in capsys.readouterr().err
    assert _files(tmp_path) == before
    assert _logged("backup") == []


@pytest.mark.parametrize("url, message", [
    ("sqlite:///{tmp_path}/no-such.db", "No SQLite database at"),
    (DEAD_POSTGRES, "Cannot reach the database postgresql+psycopg://saas:***@127.0.0.1:1/saas_panel"),
])
def test_backup_of_a_dead_database_fails_clearly(tmp_path, monkeypatch, capsys, url, message):
    monkeypatch.setenv("REFLEX_DB_URL", url.format(tmp_path=tmp_path))
    before = _files(tmp_path)

    assert main(["backup", str(tmp_path / "panel.backup")]) == 1

    error = capsys.readouterr().err
    assert message in error and "hunter2" not in error
    assert _files(tmp_path) == before


def test_backup_without_pg_dump_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("REFLEX_DB_URL", DEAD_POSTGRES)
    monkeypatch.setenv("PATH", str(tmp_path))

    assert main(["backup", str(tmp_path / "panel.backup")]) == 1

    assert "pg_dump not found: install PostgreSQL's client tools" in capsys.readouterr().err
    assert not (tmp_path / "panel.backup").exists()


def _cut_short(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize("damage, message", [
    (lambda path: path.unlink(), "No backup at"),
    (lambda path: path.write_bytes(os.urandom(4096)), "it is not a tar archive"),
    (_cut_short, "is damaged"),
    (lambda path: _rewritten(path, path, payload_byte_flipped=True), "does not match the checksum"),
    (lambda path: _rewritten(path, path, format="something-else"), "its manifest is unreadable"),
])
def test_a_missing_or_damaged_backup_changes_nothing(backup_file, capsys, damage, message):
    auth.register("bob", "bob@example.com", PASSWORD)
    damage(backup_file)

    assert main(["restore", str(backup_file), "--yes"]) == 1

    assert message in capsys.readouterr().err
    assert {"alice", "bob"} <= _usernames()
    assert _logged("restore") == []


def test_restore_refuses_a_backup_of_the_other_kind_of_database(backup_file, tmp_path, monkeypatch, capsys):
    kind = make_url(os.environ["REFLEX_DB_URL"]).get_backend_name()
    other = f"sqlite:///{tmp_path / 'other.db'}" if kind == "postgresql" else DEAD_POSTGRES
    monkeypatch.setenv("REFLEX_DB_URL", other)

    assert main(["restore", str(backup_file), "--yes"]) == 1

    error = capsys.readouterr().err
    assert f"This is a backup of a {kind} database" in error and "hunter2" not in error
    assert not (tmp_path / "other.db").exists()


def test_restore_refuses_a_backup_from_newer_code(backup_file, tmp_path, capsys):
    auth.register("bob", "bob@example.com", PASSWORD)
    newer = _rewritten(backup_file, tmp_path / "newer.backup", alembic_revision="0099")

    assert main(["restore", str(newer), "--yes"]) == 1

    assert f"revision 0099, which this code does not know (it has migrations up to {HEAD})" in capsys.readouterr().err
    assert "bob" in _usernames()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_restore_into_a_database_it_cannot_reach_changes_nothing(backup_file, tmp_path, monkeypatch, capsys, kind):
    target = tmp_path / "a-directory"
    target.mkdir()
    monkeypatch.setenv("REFLEX_DB_URL", f"sqlite:///{target}" if kind == "sqlite" else DEAD_POSTGRES)
    copy = _rewritten(backup_file, tmp_path / f"{kind}.backup", database=kind)

    assert main(["restore", str(copy), "--yes"]) == 1

    error = capsys.readouterr().err
    assert ("Cannot restore into" if kind == "sqlite" else "Cannot reach the database") in error
    assert "hunter2" not in error
    assert list(target.iterdir()) == []


def test_restore_asks_first_and_no_answer_changes_nothing(backup_file, monkeypatch, capsys):
    auth.register("bob", "bob@example.com", PASSWORD)
    for answer in ("no\n", ""):  # a refusal, and no terminal at all
        monkeypatch.setattr("sys.stdin", io.StringIO(answer))
        assert main(["restore", str(backup_file)]) == 1
        error = capsys.readouterr().err
        assert "Replace ALL data in the" in error and "Restore cancelled: nothing was changed." in error
        assert "bob" in _usernames()

    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))
    assert main(["restore", str(backup_file)]) == 0
    assert "bob" not in _usernames() and "alice" in _usernames()


def test_the_database_password_reaches_the_client_tools_only_in_their_environment():
    argv, env = backup._client_call("/usr/bin/pg_dump", ["--format=custom"], make_url(DEAD_POSTGRES))

    assert not any("hunter2" in arg for arg in argv)
    assert argv[-1] == "--dbname=postgresql://saas@127.0.0.1:1/saas_panel"
    assert env["PGPASSWORD"] == "hunter2-not-shown"
