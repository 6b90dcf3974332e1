"""Database engine and sessions.

SQLite gets WAL, a busy timeout and `BEGIN IMMEDIATE` so that concurrent
writers queue up instead of failing with "database is locked" when a read
transaction tries to upgrade to a write.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session, create_engine

from saas_panel.config import get_settings
from saas_panel.errors import DatabaseUnavailable

SQLITE_BUSY_TIMEOUT_MS = 30_000


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # noqa: ANN001
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def build_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=20,
            max_overflow=20,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


@lru_cache(maxsize=8)
def _engine_for(url: str) -> Engine:
    return build_engine(url)


def get_engine() -> Engine:
    return _engine_for(get_settings().db_url)


DISK_FULL = "The panel's disk is full, so nothing can be saved now. An administrator has to free some space; try again then."
UNREACHABLE = "The panel's database cannot be reached right now. Nothing was changed; try again in a moment."


# What drivers say when the database itself is away (PostgreSQL down or restarting, a SQLite file
# that cannot be opened or read), as opposed to a statement it refused.
UNREACHABLE_SIGNS = (
    "connection failed", "could not connect", "connection refused", "the database system is", "server closed the connection", "terminating connection",
    "connection is closed", "the connection is lost", "consuming input failed", "connection timeout",
    "unable to open database file", "disk i/o error",
)


def unavailable(exc: DBAPIError) -> DatabaseUnavailable | None:
    """The error a person is shown when the database itself failed (not the statement), else None."""
    message = str(exc.orig).lower()
    if "disk is full" in message or "no space left" in message:
        return DatabaseUnavailable(DISK_FULL)
    if exc.connection_invalidated or (isinstance(exc, OperationalError) and any(sign in message for sign in UNREACHABLE_SIGNS)):
        return DatabaseUnavailable(UNREACHABLE)
    return None


@contextmanager
def session_scope() -> Iterator[Session]:
    """One unit of work: committed on success, rolled back on error. A database that is full or
    unreachable is a DatabaseUnavailable: the transaction was rolled back, so nothing was half written."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException as exc:
            _roll_back(session)
            translated = unavailable(exc) if isinstance(exc, DBAPIError) else None
            if translated is not None:
                raise translated from exc
            raise


def _roll_back(session: Session) -> None:
    """Roll back; on a connection that is gone there is nothing to roll back (the server did)."""
    try:
        session.rollback()
    except DBAPIError:
        pass
