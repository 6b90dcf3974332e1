"""Admin console queries at scale: 10,000 users and 100,000 activity rows, then 100,000 users and 1,000,000 rows.

Times the service functions the admin pages call (server side, no browser), median of REPEAT
runs each, on a scratch database seeded by benchmarks/seed.py at each SIZES entry: SQLite,
then PostgreSQL when `make bench` started one (SAAS_PANEL_TEST_DB_URL names its server):
- search: a substring search (users by name/email; activity by free text)
- filter: users by role + status + container state; containers by state; activity by action + outcome + date range
- page: a page deep in the middle of each table (OFFSET ~ half the rows)
- export: CSV of a filtered activity view (one action, ~10,000 rows)
One line per database, size, operation and table (`rows`: the table's size); the goal is
<= 0.05 s each, export aside.
"""

from __future__ import annotations

import sys

from benchmarks.common import median_seconds, postgres_server, scratch_database, scratch_postgres

REPEAT = 15
GOAL_S = 0.05
SIZES = ((10_000, 100_000), (100_000, 1_000_000))  # (users, activity rows)


def _cases():
    from saas_panel.services import activity, containers, users

    return [
        ("search", "users", lambda: users.search_users(users.UserQuery(search="seed0421"))),
        ("search", "containers", lambda: containers.list_containers(containers.ContainerQuery(search="seed012"))),
        ("search", "activity", lambda: activity.search(activity.ActivityQuery(search="seed0421"))),
        ("filter", "users", lambda: users.search_users(users.UserQuery(role="user", status="active", container_state="running"))),
        ("filter", "containers", lambda: containers.list_containers(containers.ContainerQuery(state="stopped", sort="owner"))),
        ("filter", "activity", lambda: activity.search(activity.ActivityQuery(action="stop", outcome="failure", date_from="2000-01-01"))),
        ("page", "users", lambda: users.search_users(users.UserQuery(page=200, sort="created_at", descending=True))),
        ("page", "containers", lambda: containers.list_containers(containers.ContainerQuery(page=60))),
        ("page", "activity", lambda: activity.search(activity.ActivityQuery(page=2000))),
        ("export", "activity", lambda: activity.export_csv(activity.ActivityQuery(action="login"))),
    ]


def settle_after_bulk_load() -> None:
    """On PostgreSQL, what autovacuum does some time after a bulk load: statistics for the planner
    and a visibility map that lets index-only scans skip the table."""
    from sqlalchemy import text

    from saas_panel.db import get_engine

    engine = get_engine()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


def _databases():
    yield "sqlite", scratch_database
    server = postgres_server()
    if server:
        yield "postgresql", lambda: scratch_postgres(server)
    else:
        print("[bench admin_list] no PostgreSQL server (SAAS_PANEL_TEST_DB_URL): SQLite only", file=sys.stderr)


def run():
    from benchmarks.seed import seed

    for database, scratch in _databases():
        for users, activity_rows in SIZES:
            with scratch():
                counts = seed(users, activity_rows)
                settle_after_bulk_load()
                for op, table, fn in _cases():
                    fn()  # warm the page cache
                    seconds = median_seconds(fn, REPEAT)
                    yield {
                        "bench": "admin_list",
                        "db": database,
                        "op": op,
                        "table": table,
                        "ours_s": round(seconds, 4),
                        "goal_s": GOAL_S,
                        "rows": counts["activity"] if table == "activity" else counts["users"],
                    }
