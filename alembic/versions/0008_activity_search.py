"""A trigram index for the activity log's free-text search (saas_panel/services/activity_search.py)

SQLite: the FTS5 table activity_search over activity_logs (external content), kept in step by
triggers. A later migration that rebuilds activity_logs with batch_alter_table drops these
triggers with the old table: it must create them again (see _sqlite_triggers).
PostgreSQL: pg_trgm and a GIN index on the searched columns as one lower-case text.

Revision ID: 0008
Revises: 0007
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0008'
down_revision: Union[str, None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = "actor, action, target, ip, details"
# As activity_search.SEARCH_DOCUMENT at this revision.
SEARCH_DOCUMENT = (
    "lower(coalesce(actor, '') || chr(31) || coalesce(action, '') || chr(31) || "
    "coalesce(target, '') || chr(31) || coalesce(ip, '') || chr(31) || coalesce(details, ''))"
)


def _sqlite_triggers() -> list[str]:
    new = ", ".join(f"new.{name}" for name in COLUMNS.split(", "))
    old = ", ".join(f"old.{name}" for name in COLUMNS.split(", "))
    forget = f"INSERT INTO activity_search(activity_search, rowid, {COLUMNS}) VALUES ('delete', old.id, {old});"
    learn = f"INSERT INTO activity_search(rowid, {COLUMNS}) VALUES (new.id, {new});"
    return [
        f"CREATE TRIGGER activity_search_insert AFTER INSERT ON activity_logs BEGIN {learn} END",
        f"CREATE TRIGGER activity_search_delete AFTER DELETE ON activity_logs BEGIN {forget} END",
        f"CREATE TRIGGER activity_search_update AFTER UPDATE ON activity_logs BEGIN {forget} {learn} END",
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"CREATE VIRTUAL TABLE activity_search USING fts5({COLUMNS}, "
            "content='activity_logs', content_rowid='id', tokenize='trigram')"
        )
        op.execute("INSERT INTO activity_search(activity_search) VALUES ('rebuild')")
        for trigger in _sqlite_triggers():
            op.execute(trigger)
    elif op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(f"CREATE INDEX ix_activity_logs_search ON activity_logs USING gin (({SEARCH_DOCUMENT}) gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS activity_search_{name}")
        op.execute("DROP TABLE IF EXISTS activity_search")
    elif op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_activity_logs_search")
