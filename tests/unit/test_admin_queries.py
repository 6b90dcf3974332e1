"""The admin tables' queries: search, filters, sort and paging, all in SQL."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from saas_panel.config import get_settings
from saas_panel.db import session_scope
from saas_panel.models import Container, Plan, User
from saas_panel.services import containers, plans, users
from saas_panel.services.plans import MB
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


@pytest.fixture
def on_plans(people):
    """alice and bob on plan Small; erin and alice measured (alice uses the most); the rest on the default."""
    plans.ensure_default()
    with session_scope() as session:
        small = Plan(name="Small", image="img", cpu_limit=0.5, mem_limit_mb=256, storage_mb=512)
        session.add(small)
        session.flush()
        for name, plan_id, used in (("alice", small.id, 300 * MB), ("bob", small.id, None), ("erin", None, 12 * MB)):
            user = session.get(User, people[name])
            user.plan_id, user.storage_used_bytes = plan_id, used
    return people


def test_each_user_shows_their_effective_plan_and_its_storage(on_plans):
    rows = {row.username: row for row in users.search_users(UserQuery()).rows}
    assert {name: row.plan for name, row in rows.items()} == {name: "Small" if name in ("alice", "bob") else plans.DEFAULT_PLAN_NAME for name in NAMES}
    assert (rows["alice"].storage_used_bytes, rows["alice"].storage_mb) == (300 * MB, 512)
    assert (rows["erin"].storage_used_bytes, rows["erin"].storage_mb) == (12 * MB, get_settings().default_storage_mb)
    assert users.find_user("bob").plan == "Small"


def test_filter_by_plan_counts_the_default_plans_users_without_one(on_plans):
    assert names(users.search_users(UserQuery(plan="Small"))) == ["alice", "bob"]
    default = users.search_users(UserQuery(plan=plans.DEFAULT_PLAN_NAME))
    assert default.total == len(NAMES) - 2 and "alice" not in names(default)
    assert users.search_users(UserQuery(plan="Small", container_state="stopped")).total == 1
    assert users.search_users(UserQuery(plan="no such plan")).total == 0
    assert users.search_users(UserQuery(plan="all")).total == len(NAMES)


def test_sort_by_plan_and_by_storage_used(on_plans):
    assert names(users.search_users(UserQuery(sort="plan")))[:2] == ["alice", "bob"]  # "Small" before "Standard", ties by id
    assert names(users.search_users(UserQuery(sort="plan", descending=True)))[-2:] == ["alice", "bob"]
    for descending, expected in ((False, ["erin", "alice"]), (True, ["alice", "erin"])):
        ordered = names(users.search_users(UserQuery(sort="storage", descending=descending)))
        assert [name for name in ordered if name in ("alice", "erin")] == expected  # the unmeasured: at one end, by database


def test_containers_sort_by_their_owners_storage(people):
    with session_scope() as session:
        for name, mb in (("alice", 5), ("bob", 500), ("carol", 50)):
            session.get(User, people[name]).storage_used_bytes = mb * 1024 * 1024
    rows = containers.list_containers(containers.ContainerQuery(sort="storage", descending=False)).rows
    assert [row.owner for row in rows] == ["alice", "carol", "bob"]
    assert [row.owner for row in containers.list_containers(containers.ContainerQuery(sort="storage", descending=True)).rows] == ["bob", "carol", "alice"]
    assert (rows[0].storage_used_bytes, rows[0].storage_mb) == (5 * 1024 * 1024, 1024)  # the default plan's storage
