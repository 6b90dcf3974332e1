"""Shared fixtures: a fresh, migrated SQLite file per test."""

from __future__ import annotations

import pytest

from saas_panel import migrations


@pytest.fixture
def db(tmp_path, monkeypatch):
    """Point the app at a new database file and apply the committed migrations."""
    url = f"sqlite:///{tmp_path / 'panel.db'}"
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
