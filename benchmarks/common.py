"""Helpers shared by benchmarks: a scratch database and timing."""

from __future__ import annotations

import os
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def scratch_database():
    """A fresh migrated SQLite file for the duration of the benchmark."""
    from saas_panel import migrations

    with tempfile.TemporaryDirectory(prefix="saas-bench-") as workdir:
        with environment({"REFLEX_DB_URL": f"sqlite:///{Path(workdir) / 'bench.db'}"}):
            migrations.upgrade()
            yield


def postgres_server() -> str | None:
    """The PostgreSQL server `make bench` starts (scripts/test_services.sh), if any."""
    return os.environ.get("SAAS_PANEL_TEST_DB_URL") or None


@contextmanager
def scratch_postgres(server_url: str) -> Iterator[None]:
    """A fresh migrated database on the PostgreSQL server of `server_url`, dropped afterwards."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from saas_panel import migrations
    from saas_panel.db import _engine_for, build_engine

    name = f"bench_{secrets.token_hex(4)}"
    admin = build_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        with environment({"REFLEX_DB_URL": url}):
            migrations.upgrade()
            yield
    finally:
        _engine_for(url).dispose()
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """`values` set in os.environ for the duration of the block (the settings re-read it), then restored."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def median_seconds(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)
