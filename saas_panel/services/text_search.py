"""Free-text search of the admin tables, served by a trigram index on both databases.

A search matches a substring of any of a table's searched columns, ignoring case, as a LIKE
scan would, but through an index (migration 0009):
- SQLite: an FTS5 table per searched table (trigram tokenizer, external content: the rows stay
  where they are, triggers keep the index in step);
- PostgreSQL: a pg_trgm GIN index on the searched columns as one lower-case text
  (`TrigramIndex.document`), which `LIKE '%text%'` uses.
A trigram index cannot serve fewer than 3 characters: such searches scan.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, column, literal_column, select, table

from saas_panel.db import get_engine
from saas_panel.services.query import LIKE_ESCAPE, contains_any, like_pattern, searchable_text

MIN_INDEXED_CHARS = 3


@dataclass(frozen=True)
class TrigramIndex:
    table: str
    columns: tuple[str, ...]
    fts_table: str  # SQLite
    pg_index: str  # PostgreSQL

    @property
    def document(self) -> str:
        """The columns as one lower-case text, joined by a character no search holds (control
        characters are dropped from searches), so that a match never spans two columns.
        PostgreSQL uses the index only for this exact expression: the migration creates it
        from the same text."""
        joined = " || chr(31) || ".join(f"coalesce({self.table}.{name}, '')" for name in self.columns)
        return f"lower({joined})"


ACTIVITY = TrigramIndex("activity_logs", ("actor", "action", "target", "ip", "details"), "activity_search", "ix_activity_logs_search")
USERS = TrigramIndex("users", ("username", "email"), "user_search", "ix_users_search")
CONTAINERS = TrigramIndex("containers", ("name",), "container_search", "ix_containers_search")


def fts5_phrase(text: str) -> str:
    """`text` as one FTS5 phrase: a substring match under the trigram tokenizer."""
    return '"' + text.replace('"', '""') + '"'


def matching(index: TrigramIndex, model, text: str) -> ColumnElement[bool]:
    """Rows of `model` (the table of `index`) whose searched columns contain `text`."""
    wanted, dialect = searchable_text(text), get_engine().dialect.name
    if len(wanted) >= MIN_INDEXED_CHARS and dialect == "sqlite":
        hits = select(column("rowid")).select_from(table(index.fts_table)).where(literal_column(index.fts_table).op("MATCH")(fts5_phrase(wanted)))
        return model.id.in_(hits)
    if len(wanted) >= MIN_INDEXED_CHARS and dialect == "postgresql":
        return literal_column(index.document).like(like_pattern(wanted), escape=LIKE_ESCAPE)
    return contains_any(wanted, *(getattr(model, name) for name in index.columns))
