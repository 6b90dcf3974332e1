"""The admin tables' queries: search, filters, sort and paging, all in SQL."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from saas_panel.db import session_scope
from saas_panel.models import Container, User
from saas_panel.services import containers, users
from saas_panel.services.query import MAX_PER_PAGE, like_pattern
from saas_panel.services.users import UserQuery

NAMES = ["alice", "bob", "carol", "dave_x", "daveyx", "erin", "frank"]


@pytest.fixture
def people(db):
    """Seven users (dave_x disabled, frank admin); containers for alice (running), bob (stopped), carol (error)."""
    with session_scope() as session:
        session.execute(
            insert(User),
            [
                {
                    "username": name,
                    "host_label": name.replace("_", "-"),
                    "email": f"{name}@{'example.org' if name == 'erin' else 'example.com'}",
                    "password_hash": "x",
                    "role": "admin" if name == "frank" else "user",
                    "is_active": name != "dave_x",
                }
                for name in NAMES
            ],
        )
    with session_scope() as session:
        ids = {u.username: u.id for u in session.exec(__import__("sqlmodel").select(User)).all()}
        for name, state, image in (("alice", "running", "img/a:1"), ("bob", "stopped", "img/b:2"), ("carol", "error", "img/a:1")):
            session.add(Container(user_id=ids[name], name=f"c-{name}", image=image, state=state))
    return ids


def names(page) -> list[str]:
    return [row.username for row in page.rows]


def test_search_matches_username_or_email_ignoring_case(people):
    assert names(users.search_users(UserQuery(search="ALI"))) == ["alice"]
    assert names(users.search_users(UserQuery(search="example.org"))) == ["erin"]
    assert users.search_users(UserQuery(search="  ")).total == len(NAMES)


def test_like_wildcards_in_the_search_match_literally(people):
    assert names(users.search_users(UserQuery(search="dave_"))) == ["dave_x"]  # not daveyx
    assert names(users.search_users(UserQuery(search="%"))) == []
    assert names(users.search_users(UserQuery(search="\\"))) == []
    assert like_pattern("50%_a\\b") == "%50\\%\\_a\\\\b%"


@pytest.mark.parametrize("text", ["x" * 200, "ünïcødé 🚀", "'; DROP TABLE users; --", "\x00zz", "ali\x00ce!"])
def test_odd_search_input_is_harmless(people, text):
    assert users.search_users(UserQuery(search=text)).total == 0
    assert users.search_users(UserQuery()).total == len(NAMES)


def test_control_characters_are_dropped_from_the_search(people):
    assert names(users.search_users(UserQuery(search="al\x00i\tce"))) == ["alice"]


def test_each_filter(people):
    assert names(users.search_users(UserQuery(role="admin"))) == ["frank"]
    assert names(users.search_users(UserQuery(status="disabled"))) == ["dave_x"]
    assert len(users.search_users(UserQuery(status="active")).rows) == 6
    assert names(users.search_users(UserQuery(container_state="running"))) == ["alice"]
    assert names(users.search_users(UserQuery(container_state="none", status="active"))) == ["daveyx", "erin", "frank"]
    assert users.search_users(UserQuery(role="all", status="all", container_state="all")).total == len(NAMES)


def test_sort_by_allowed_columns_only(people):
    assert names(users.search_users(UserQuery(sort="username", descending=True)))[:2] == ["frank", "erin"]
    by_state = [row.container_state for row in users.search_users(UserQuery(sort="container_state", container_state="running")).rows]
    assert by_state == ["running"]
    injected = users.search_users(UserQuery(sort="password_hash; DROP TABLE users"))
    assert names(injected) == sorted(NAMES)  # an unknown column falls back to username


def test_pagination_bounds(people):
    first = users.search_users(UserQuery(per_page=3, page=1))
    assert (first.total, first.pages, names(first)) == (7, 3, ["alice", "bob", "carol"])
    last = users.search_users(UserQuery(per_page=3, page=3))
    assert names(last) == ["frank"]
    beyond = users.search_users(UserQuery(per_page=3, page=99))
    assert beyond.page == 3 and names(beyond) == ["frank"]
    assert users.search_users(UserQuery(per_page=3, page=-5)).page == 1
    assert users.search_users(UserQuery(per_page=10_000)).per_page == MAX_PER_PAGE
    assert users.search_users(UserQuery(per_page=0)).per_page >= 1
    assert users.search_users(UserQuery(search="nobody")).pages == 1


def test_container_listing_search_filters_and_sort(people):
    page = containers.list_containers(containers.ContainerQuery(sort="name", descending=False))
    assert [row.name for row in page.rows] == ["c-alice", "c-bob", "c-carol"]
    assert [row.owner for row in containers.list_containers(containers.ContainerQuery(search="BO")).rows] == ["bob"]
    assert [row.state for row in containers.list_containers(containers.ContainerQuery(state="error")).rows] == ["error"]
    assert [row.owner for row in containers.list_containers(containers.ContainerQuery(owner="car")).rows] == ["carol"]
    assert {row.owner for row in containers.list_containers(containers.ContainerQuery(image="img/a")).rows} == {"alice", "carol"}
    assert [row.owner for row in containers.list_containers(containers.ContainerQuery(sort="owner", descending=True)).rows] == ["carol", "bob", "alice"]
    assert containers.list_containers(containers.ContainerQuery(image="%")).total == 0
