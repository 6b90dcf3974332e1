"""Backups of the panel's database: `python -m saas_panel backup FILE` and `restore FILE`.

A backup is an uncompressed tar of two members:

- `manifest.json`: `{"format": "saas-panel-backup", "version": 1, "database": "sqlite" | "postgresql",
  "alembic_revision": ..., "created_at": ..., "payload_sha256": ..., "payload_bytes": ...}`;
- the payload, taken from one snapshot while the panel keeps writing: `database.sqlite`, a copy
  made with SQLite's online backup API, or `database.pgdump`, a `pg_dump --format=custom` archive
  of a snapshot exported by the transaction that also reads the Alembic revision.

The server secret is not in it: nothing in the database is encrypted with it (passwords are
bcrypt, session and API tokens SHA-256), so a restored database works under any secret, and a
stolen backup holds no key to forge the panel's signed cookies and tickets.

PostgreSQL passwords go to the client tools in PGPASSWORD, never on a command line.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.engine import Connection, URL, make_url

from saas_panel import migrations
from saas_panel.config import get_settings
from saas_panel.db import get_engine
from saas_panel.errors import DomainError
from saas_panel.services import activity

FORMAT = "saas-panel-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
PAYLOADS = {"sqlite": "database.sqlite", "postgresql": "database.pgdump"}
CHUNK_BYTES = 1 << 20
SQLITE_TIMEOUT_S = 30
# Drops every table of the panel's schema before the restored ones are created, in the same
# transaction: `pg_restore --clean` drops only what the backup has, so a table added by a later
# migration would survive the restore of an older backup and make the upgrade after it fail.
DROP_TABLES = """DO $$ DECLARE t text; BEGIN
  FOR t IN SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema() LOOP
    EXECUTE 'DROP TABLE ' || t || ' CASCADE';
  END LOOP;
END $$"""


class BackupError(DomainError):
    """A backup or restore that could not be done; nothing was written or changed."""


@dataclass(frozen=True)
class Manifest:
    database: str  # sqlite | postgresql
    alembic_revision: str
    created_at: str  # ISO 8601, UTC
    payload_sha256: str
    payload_bytes: int

    def to_json(self) -> bytes:
        return json.dumps({"format": FORMAT, "version": FORMAT_VERSION, **asdict(self)}, indent=2).encode()

    @classmethod
    def from_json(cls, raw: bytes, source: Path) -> Manifest:
        try:
            fields = json.loads(raw)
            if fields.pop("format") != FORMAT or fields.pop("version") != FORMAT_VERSION:
                raise ValueError
            manifest = cls(**fields)
        except (ValueError, TypeError, KeyError, AttributeError):
            raise _damaged(source, "its manifest is unreadable") from None
        if manifest.database not in PAYLOADS:
            raise _damaged(source, f"unknown database kind {manifest.database!r}")
        return manifest


# --- the panel's database -------------------------------------------------------


def _kind(url: URL) -> str:
    kind = url.get_backend_name()
    if kind not in PAYLOADS:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {kind}.")
    return kind


def _shown(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError(f"{_shown(url)} is not a SQLite database file.")
    return Path(url.database).absolute()


def _revisions() -> ScriptDirectory:
    return ScriptDirectory.from_config(migrations.alembic_config())


def _revision(query: Callable[[str], Iterable[Sequence[str]]]) -> str:
    """The one Alembic revision the database is at, `query` running SQL on it."""
    try:
        [[revision]] = query("SELECT version_num FROM alembic_version")
    except (sqlite3.Error, sa_exc.DBAPIError, ValueError):
        raise BackupError("The database has no Alembic revision: it is not the panel's, or was never migrated "
                          "(python -m saas_panel migrate).") from None
    return revision


# --- PostgreSQL's client tools ------------------------------------------------------


def _which(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise BackupError(f"{tool} not found: install PostgreSQL's client tools of the server's major version or newer "
                          "(Debian: apt-get install postgresql-client).")
    return path


def _check_version(tool: str, server_major: int) -> None:
    version = subprocess.run([tool, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    found = re.search(r"(\d+)\.\d+", version)
    if found is None or int(found.group(1)) < server_major:
        raise BackupError(f"{version or tool} is older than the PostgreSQL {server_major} server: "
                          f"install postgresql-client-{server_major}.")


def _libpq_uri(url: URL) -> str:
    """The URL for libpq, without the password."""
    bare = URL.create("postgresql", username=url.username, host=url.host, port=url.port, database=url.database, query=url.query)
    return bare.render_as_string(hide_password=False)


def _client_call(tool: str, args: list[str], url: URL) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of a client tool run on the panel's database: the
    password goes in PGPASSWORD, never on a command line (visible to every local user in ps)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return [tool, *args, f"--dbname={_libpq_uri(url)}"], env


def _run(argv: list[str], env: dict[str, str] | None = None) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} failed: {done.stderr.strip() or f'exit code {done.returncode}'}")


@contextmanager
def _postgres(url: URL, *tools: str) -> Iterator[tuple[Connection, list[str]]]:
    """A connection to the panel's database, outside any transaction, and the paths of the client
    `tools`, checked to be new enough for its server. Clear errors for a missing tool or a dead server."""
    paths = [_which(tool) for tool in tools]
    try:
        connection = get_engine().connect()
    except sa_exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise BackupError(f"Cannot reach the database {_shown(url)}: {reason}") from None
    with connection:
        server_major = int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10_000
        connection.rollback()
        for path in paths:
            _check_version(path, server_major)
        yield connection, paths


# --- backup -----------------------------------------------------------------------


def _dump_sqlite(url: URL, payload: Path) -> str:
    source_path = _sqlite_file(url)
    try:  # mode=rw: a missing database is an error, not a new empty file
        source = sqlite3.connect(f"{source_path.as_uri()}?mode=rw", uri=True, timeout=SQLITE_TIMEOUT_S)
    except sqlite3.OperationalError:
        raise BackupError(f"No SQLite database at {source_path}.") from None
    try:
        with closing(source), closing(sqlite3.connect(payload)) as copy:
            source.backup(copy)  # in one step: a consistent snapshot while writers go on (WAL)
            return _revision(copy.execute)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"Cannot read the SQLite database {source_path}: {exc}.") from None


def _dump_postgres(url: URL, payload: Path) -> str:
    with _postgres(url, "pg_dump") as (connection, [pg_dump]):
        connection.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        revision = _revision(lambda sql: connection.execute(text(sql)))  # in the snapshot pg_dump dumps
        _run(*_client_call(pg_dump, ["--format=custom", f"--snapshot={snapshot}", f"--file={payload}"], url))
        connection.rollback()
    return revision


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _entry(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, 0o600, int(time.time())
    return info


def _write_archive(archive: Path, manifest: Manifest, payload: Path) -> None:
    """The tar, mode 0600 from its creation, flushed to disk."""
    with open(os.open(archive, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as raw:
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
            data = manifest.to_json()
            tar.addfile(_entry(MANIFEST, len(data)), io.BytesIO(data))
            with open(payload, "rb") as stream:
                tar.addfile(_entry(payload.name, manifest.payload_bytes), stream)
        raw.flush()
        os.fsync(raw.fileno())


def _publish(archive: Path, path: Path, force: bool) -> None:
    if force:
        os.replace(archive, path)
    else:
        try:
            os.link(archive, path)  # unlike a rename, never replaces a file that appeared meanwhile
        except FileExistsError:
            raise BackupError(f"{path} already exists; pass --force to replace it.") from None
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def create(path: Path, force: bool = False) -> Manifest:
    """Write a backup of the panel's database to `path`, whole or not at all; logs `backup`."""
    path = Path(path).absolute()
    url = make_url(get_settings().db_url)
    kind = _kind(url)
    if path.is_dir():
        raise BackupError(f"{path} is a directory; name the backup file.")
    if path.exists() and not force:
        raise BackupError(f"{path} already exists; pass --force to replace it.")
    try:  # beside the destination: the same file system for the rename, and no copy in a small /tmp
        staging_dir = tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.name}.")
    except OSError as exc:
        raise BackupError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    with staging_dir as staging:
        payload = Path(staging) / PAYLOADS[kind]
        revision = (_dump_sqlite if kind == "sqlite" else _dump_postgres)(url, payload)
        created_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        manifest = Manifest(kind, revision, created_at, _sha256(payload), payload.stat().st_size)
        archive = Path(staging) / "backup.tar"
        try:
            _write_archive(archive, manifest, payload)
            _publish(archive, path, force)
        except OSError as exc:
            raise BackupError(f"Cannot write {path}: {exc.strerror or exc}.") from None
    activity.record(activity.Action.BACKUP, actor=activity.SYSTEM_ACTOR, target=str(path), target_is_account=False,
                    details=f"{kind} database at revision {revision}, {manifest.payload_bytes} bytes")
    return manifest


# --- restore ----------------------------------------------------------------------


def _damaged(path: Path, why: str) -> BackupError:
    return BackupError(f"{path} is not a saas-panel backup, or is damaged: {why}.")


def _member(tar: tarfile.TarFile, name: str, path: Path) -> IO[bytes]:
    try:
        stream = tar.extractfile(name)
    except KeyError:
        stream = None
    if stream is None:
        raise _damaged(path, f"it has no {name}")
    return stream


@contextmanager
def _unpacked(path: Path) -> Iterator[tuple[Manifest, Path]]:
    """The backup's manifest, and its payload checked against it, in a private temporary directory."""
    try:
        tar = tarfile.open(path, mode="r:")
    except FileNotFoundError:
        raise BackupError(f"No backup at {path}.") from None
    except (IsADirectoryError, PermissionError) as exc:
        raise BackupError(f"Cannot read {path}: {exc.strerror}.") from None
    except (tarfile.TarError, OSError):
        raise _damaged(path, "it is not a tar archive") from None
    with tar, tempfile.TemporaryDirectory(prefix="saas-panel-restore-") as staging:
        try:
            manifest = Manifest.from_json(_member(tar, MANIFEST, path).read(), path)
            payload = Path(staging) / PAYLOADS[manifest.database]
            with open(payload, "wb") as copy:
                checksum = _copy(_member(tar, payload.name, path), copy)
        except (tarfile.TarError, EOFError):
            raise _damaged(path, "it is cut short") from None
        except OSError as exc:
            raise BackupError(f"Cannot unpack {path} in {staging}: {exc.strerror or exc} (TMPDIR names another place).") from None
        if checksum != (manifest.payload_sha256, manifest.payload_bytes):
            raise _damaged(path, "its database does not match the checksum in its manifest")
        yield manifest, payload


def _copy(source: IO[bytes], destination: IO[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(CHUNK_BYTES):
        digest.update(chunk)
        destination.write(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _check_restorable(manifest: Manifest, url: URL) -> None:
    kind = _kind(url)
    if manifest.database != kind:
        raise BackupError(f"This is a backup of a {manifest.database} database, and the panel's database ({_shown(url)}) "
                          f"is {kind}: restore it into a panel set up with {manifest.database}.")
    revisions = _revisions()
    try:
        known = revisions.get_revision(manifest.alembic_revision) is not None
    except (CommandError, RevisionError):
        known = False
    if not known:
        raise BackupError(f"The backup is at database revision {manifest.alembic_revision}, which this code does not know "
                          f"(it has migrations up to {revisions.get_current_head()}): restore it with a newer panel.")


def _prepare_sqlite(url: URL, payload: Path) -> Callable[[], None]:
    target = _sqlite_file(url)

    def restore() -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:  # page by page into the live file, in one transaction: other connections see all or nothing
            with closing(sqlite3.connect(payload)) as source, closing(sqlite3.connect(target, timeout=SQLITE_TIMEOUT_S)) as live:
                source.backup(live)
        except sqlite3.Error as exc:
            raise BackupError(f"Cannot restore into {target}: {exc}.") from None

    return restore


def _prepare_postgres(url: URL, payload: Path) -> Callable[[], None]:
    """pg_restore writes the backup as SQL (dropping what it holds first), and psql runs that
    after DROP_TABLES in one transaction: an error anywhere leaves the database as it was."""
    with _postgres(url, "pg_restore", "psql") as (_connection, tools):  # up, and the tools fit its server
        pg_restore, psql = tools

    def restore() -> None:
        script = payload.with_suffix(".sql")
        _run([pg_restore, "--clean", "--if-exists", "--no-owner", "--no-privileges", f"--file={script}", str(payload)])
        _run(*_client_call(psql, ["--no-psqlrc", "--quiet", "--single-transaction", "--set=ON_ERROR_STOP=1",
                                  f"--command={DROP_TABLES}", f"--file={script}"], url))
        get_engine().dispose()  # pooled connections may hold plans for the tables just replaced

    return restore


def restore(path: Path, confirm: Callable[[str], bool] = lambda _question: True) -> Manifest:
    """Replace all the panel's data with the backup at `path`, then migrate it to this code's
    revision; logs `restore`. `confirm` gets a question naming what will be replaced, once the
    backup is checked and the database reached, before anything changes: False cancels."""
    path = Path(path).absolute()
    url = make_url(get_settings().db_url)
    with _unpacked(path) as (manifest, payload):
        _check_restorable(manifest, url)
        replace = (_prepare_sqlite if manifest.database == "sqlite" else _prepare_postgres)(url, payload)
        if not confirm(f"Replace ALL data in the {manifest.database} database {_shown(url)} with the backup made "
                       f"{manifest.created_at} (revision {manifest.alembic_revision})?"):
            raise BackupError("Restore cancelled: nothing was changed.")
        replace()
    migrations.upgrade()
    activity.record(activity.Action.RESTORE, actor=activity.SYSTEM_ACTOR, target=str(path), target_is_account=False,
                    details=f"{manifest.database} backup made {manifest.created_at} at revision {manifest.alembic_revision}, "
                            f"migrated to {_revisions().get_current_head()}")
    return manifest
