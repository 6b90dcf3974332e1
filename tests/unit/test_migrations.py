"""The hand-written migrations go up, down and up again, and match the models."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from saas_panel.db import get_engine
from saas_panel.migrations import alembic_config, include_name


def _tables() -> set[str]:
    return set(inspect(get_engine()).get_table_names())


def test_upgrade_downgrade_upgrade(db):
    config = alembic_config()
    assert {"api_tokens", "throttle_hits"} <= _tables()
    command.downgrade(config, "0001")
    assert not {"api_tokens", "throttle_hits"} & _tables() and "users" in _tables()
    command.upgrade(config, "head")
    assert {"api_tokens", "throttle_hits"} <= _tables()
    command.downgrade(config, "base")
    assert _tables() <= {"alembic_version"}
    command.upgrade(config, "head")


def test_models_match_the_migrated_schema(db):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    import saas_panel.models  # noqa: F401

    with get_engine().connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": include_name})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_nodes_come_and_go_with_their_migration(db):
    config = alembic_config()
    command.downgrade(config, "0006")
    assert "nodes" not in _tables()
    assert "node" not in {column["name"] for column in inspect(get_engine()).get_columns("containers")}
    command.upgrade(config, "head")
    assert "nodes" in _tables()
    assert "ix_containers_node" in {index["name"] for index in inspect(get_engine()).get_indexes("containers")}


def test_the_search_indexes_survive_every_migration(db):
    """A migration that rebuilds a searched table (batch_alter_table on SQLite) drops its triggers
    with the old table and must make them again; on PostgreSQL the GIN indexes must be there."""
    from saas_panel.services import text_search

    engine = get_engine()
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            found = {row[0] for row in connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))}
            wanted = {f"{index.fts_table}_{event}" for index in (text_search.ACTIVITY, text_search.USERS, text_search.CONTAINERS) for event in ("insert", "delete", "update")}
        else:
            found = {row[0] for row in connection.execute(text("SELECT indexname FROM pg_indexes"))}
            wanted = {index.pg_index for index in (text_search.ACTIVITY, text_search.USERS, text_search.CONTAINERS)}
    assert wanted <= found
