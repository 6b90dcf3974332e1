"""Shared fixtures: a fresh, migrated database per test (SQLite, or PostgreSQL in the second CI run)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from saas_panel import migrations
from tests.swarm_fleet import swarm_fleet  # noqa: F401 - a fixture for tests/integration and tests/e2e


def empty_postgres(url: str) -> str:
    """Drop and recreate the public schema: each test starts from nothing, like a new SQLite file."""
    from sqlalchemy import text

    from saas_panel.db import _engine_for, build_engine

    _engine_for(url).dispose()  # pooled connections may hold plans for the tables about to go
    engine = build_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def own_database(url: str, name: str) -> str:
    """`url` pointing at database `name` on the same server, created if missing."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from saas_panel.db import build_engine

    server = build_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            if connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).first() is None:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        server.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole session (tests/e2e and tests/faults): Playwright's sync API runs
    one instance per thread, so a second one started while this one lives would fail."""
    from devtools.panel import CHROMIUM, launch_chromium
    from tests.prerequisites import skip_outside_ci

    if not Path(CHROMIUM).exists():
        skip_outside_ci(f"Chromium not found at {CHROMIUM}: run `make test`, which installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = launch_chromium(playwright)
        yield instance
        instance.close()


@pytest.fixture
def db(tmp_path, monkeypatch):
    """A new, migrated database: a SQLite file, or PostgreSQL when SAAS_PANEL_TEST_DB_URL is set."""
    postgres_url = os.environ.get("SAAS_PANEL_TEST_DB_URL")
    url = empty_postgres(postgres_url) if postgres_url else f"sqlite:///{tmp_path / 'panel.db'}"
    monkeypatch.setenv("REFLEX_DB_URL", url)
    monkeypatch.delenv("SAAS_PANEL_ADMIN_PASSWORD", raising=False)
    migrations.upgrade()
    return url


@pytest.fixture
def make_user(db):
    """Create a user through the real signup path."""
    from saas_panel.services import auth

    def _make(username: str = "alice", password: str = "correct horse", email: str | None = None):
        return auth.register(username, email or f"{username}@example.com", password)

    return _make
