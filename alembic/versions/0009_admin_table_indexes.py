"""The admin tables at a million rows: trigram indexes for their free-text search
(saas_panel/services/text_search.py), and the activity log by action and outcome, newest first

SQLite: an FTS5 table per searched table (external content), kept in step by triggers. A later
migration that rebuilds one of these tables with batch_alter_table drops its triggers with the
old table: it must create them again (tests/unit/test_migrations.py checks they exist).
PostgreSQL: pg_trgm and a GIN index on the searched columns as one lower-case text.

Revision ID: 0009
Revises: 0008
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0009'
down_revision: Union[str, None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# (table, searched columns, SQLite FTS5 table, PostgreSQL index), as in text_search at this revision.
INDEXES = (
    ("activity_logs", ("actor", "action", "target", "ip", "details"), "activity_search", "ix_activity_logs_search"),
    ("users", ("username", "email"), "user_search", "ix_users_search"),
    ("containers", ("name",), "container_search", "ix_containers_search"),
)


def _sqlite_create(table: str, columns: tuple[str, ...], fts: str) -> None:
    names = ", ".join(columns)
    new = ", ".join(f"new.{name}" for name in columns)
    old = ", ".join(f"old.{name}" for name in columns)
    forget = f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old});"
    learn = f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new});"
    op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='{table}', content_rowid='id', tokenize='trigram')")
    op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
    op.execute(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {learn} END")
    op.execute(f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {forget} END")
    op.execute(f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {names} ON {table} BEGIN {forget} {learn} END")


def _postgres_document(columns: tuple[str, ...]) -> str:
    return "lower(" + " || chr(31) || ".join(f"coalesce({name}, '')" for name in columns) + ")"


def upgrade() -> None:
    op.create_index("ix_activity_logs_action_outcome_created_at_id", "activity_logs", ["action", "outcome", "created_at", "id"])
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, columns, fts, pg_index in INDEXES:
        if dialect == "sqlite":
            _sqlite_create(table, columns, fts)
        elif dialect == "postgresql":
            op.execute(f"CREATE INDEX {pg_index} ON {table} USING gin (({_postgres_document(columns)}) gin_trgm_ops)")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for _table, _columns, fts, pg_index in INDEXES:
        if dialect == "sqlite":
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {fts}_{event}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
        elif dialect == "postgresql":
            op.execute(f"DROP INDEX IF EXISTS {pg_index}")
    op.drop_index("ix_activity_logs_action_outcome_created_at_id", table_name="activity_logs")
