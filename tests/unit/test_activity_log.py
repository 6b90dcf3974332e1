"""The activity log's query and CSV export."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest
from sqlalchemy import insert

from saas_panel.db import session_scope
from saas_panel.models import ActivityLog
from saas_panel.services import activity
from saas_panel.services.activity import ActivityQuery
from saas_panel.errors import ValidationError


def _at(day: int) -> datetime:
    return datetime(2026, 3, day, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def log(db):
    rows = [
        {"created_at": _at(1), "actor": "alice", "action": "login", "target": None, "ip": "10.0.0.1", "outcome": "success"},
        {"created_at": _at(2), "actor": "admin", "action": "stop", "target": "alice", "ip": "10.0.0.9", "outcome": "success"},
        {"created_at": _at(3), "actor": "mallory", "action": "disable_user", "target": "alice", "ip": "6.6.6.6", "outcome": "denied", "details": "admin role required"},
        {"created_at": _at(4), "actor": "=cmd|' /C calc'!A0", "action": "login", "target": "+1", "ip": "-1", "outcome": "failure", "details": "@SUM(1)"},
        {"created_at": _at(5), "actor": "bob", "action": "signup", "target": "bob", "ip": None, "outcome": "success", "details": "50% done"},
    ]
    with session_scope() as session:
        session.execute(insert(ActivityLog), rows)


def actors(query: ActivityQuery) -> list[str]:
    return [row.actor for row in activity.search(query).rows]


def test_newest_first_with_every_filter(log):
    assert actors(ActivityQuery()) == ["bob", "=cmd|' /C calc'!A0", "mallory", "admin", "alice"]
    assert actors(ActivityQuery(actor="admin")) == ["admin"]
    assert actors(ActivityQuery(action="login")) == ["=cmd|' /C calc'!A0", "alice"]
    assert actors(ActivityQuery(target="alice")) == ["mallory", "admin"]
    assert actors(ActivityQuery(outcome="denied")) == ["mallory"]
    assert actors(ActivityQuery(date_from="2026-03-02", date_to="2026-03-03")) == ["mallory", "admin"]
    assert actors(ActivityQuery(search="ROLE REQ")) == ["mallory"]
    assert actors(ActivityQuery(search="6.6.6")) == ["mallory"]
    assert actors(ActivityQuery(search="50%")) == ["bob"]
    assert actors(ActivityQuery(search="%")) == ["bob"]  # only the literal percent sign
    assert actors(ActivityQuery(action="all", outcome="all")) == actors(ActivityQuery())


def test_search_paging_reports_the_total(log):
    page = activity.search(ActivityQuery(search="a", per_page=2, page=2))
    assert page.total == 4 and page.pages == 2 and len(page.rows) == 2
    beyond = activity.search(ActivityQuery(search="a", per_page=2, page=50))
    assert beyond.page == 2 and beyond.total == 4


def test_a_malformed_date_is_a_validation_error(log):
    with pytest.raises(ValidationError):
        activity.search(ActivityQuery(date_from="yesterday"))


def _parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_csv_has_a_header_and_the_filtered_rows(log):
    rows = _parse(activity.export_csv(ActivityQuery(target="alice")))
    assert rows[0] == list(activity.CSV_HEADER)
    assert [r[1:4] for r in rows[1:]] == [["mallory", "disable_user", "alice"], ["admin", "stop", "alice"]]
    assert rows[1][0] == "2026-03-03 12:00:00" and rows[1][5] == "denied" and rows[1][6] == "admin role required"


def test_csv_neutralizes_formulas(log):
    rows = _parse(activity.export_csv(ActivityQuery(outcome="failure")))
    assert rows[1][1:5] == ["'=cmd|' /C calc'!A0", "login", "'+1", "'-1"]
    assert rows[1][6] == "'@SUM(1)"
    assert activity.csv_safe("plain") == "plain" and activity.csv_safe(None) == ""


@pytest.mark.parametrize("cell", ["  =cmd", "\t+1", "\n@x", "\r\n-2+3", " \u00a0\u3000=HYPERLINK(\"x\")", "\u2003@SUM(1)"])
def test_csv_neutralizes_formulas_behind_whitespace(cell):
    assert activity.csv_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", [" hello", "\u00a0plain", "a=b", "e-mail", "", "   "])
def test_csv_leaves_plain_text_alone(cell):
    assert activity.csv_safe(cell) == cell


def test_csv_is_streamed_in_chunks_and_capped(log, monkeypatch):
    monkeypatch.setattr(activity, "EXPORT_CHUNK_ROWS", 2)
    chunks = list(activity.iter_csv(ActivityQuery()))
    assert len(chunks) >= 4  # header, then 2 + 2 + 1 rows
    assert len(_parse("".join(chunks))) == 6
    assert len(_parse(activity.export_csv(ActivityQuery(), max_rows=3))) == 4
    assert len(_parse(activity.export_csv(ActivityQuery(actor="nobody")))) == 1
