"""The activity log's free-text search, served by an index on both databases.

A search matches a substring of the actor, action, target, IP or details, ignoring case, as
the LIKE scan it replaces did, but through a trigram index (migration 0008):
- SQLite: the FTS5 table `activity_search` (trigram tokenizer, external content: the rows stay
  in activity_logs, triggers keep the index in step);
- PostgreSQL: a pg_trgm GIN index on SEARCH_DOCUMENT, which `LIKE '%text%'` uses.
A trigram index cannot serve fewer than 3 characters: such searches scan, as before.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, column, literal_column, select, table

from saas_panel.db import get_engine
from saas_panel.models import ActivityLog
from saas_panel.services.query import LIKE_ESCAPE, contains_any, like_pattern, searchable_text

MIN_INDEXED_CHARS = 3

# The searched columns as one lower-case text, joined by a character a search never holds (like_pattern
# drops control characters), so a match never spans two columns. PostgreSQL uses the index only for this
# exact expression: migration 0008 creates it from the same text.
SEARCH_DOCUMENT = (
    "lower(coalesce(activity_logs.actor, '') || chr(31) || coalesce(activity_logs.action, '') || chr(31) || "
    "coalesce(activity_logs.target, '') || chr(31) || coalesce(activity_logs.ip, '') || chr(31) || "
    "coalesce(activity_logs.details, ''))"
)
FTS_TABLE = "activity_search"


def fts5_phrase(text: str) -> str:
    """`text` as one FTS5 phrase: a substring match under the trigram tokenizer."""
    return '"' + text.replace('"', '""') + '"'


def matching(text: str) -> ColumnElement[bool]:
    """Rows of activity_logs whose searched columns contain `text`, through the database's index."""
    wanted, dialect = searchable_text(text), get_engine().dialect.name
    if len(wanted) < MIN_INDEXED_CHARS:
        return contains_any(wanted, ActivityLog.actor, ActivityLog.action, ActivityLog.target, ActivityLog.ip, ActivityLog.details)
    if dialect == "sqlite":
        hits = select(column("rowid")).select_from(table(FTS_TABLE)).where(literal_column(FTS_TABLE).op("MATCH")(fts5_phrase(wanted)))
        return ActivityLog.id.in_(hits)
    if dialect == "postgresql":
        return literal_column(SEARCH_DOCUMENT).like(like_pattern(wanted), escape=LIKE_ESCAPE)
    return contains_any(wanted, ActivityLog.actor, ActivityLog.action, ActivityLog.target, ActivityLog.ip, ActivityLog.details)
