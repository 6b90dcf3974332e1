"""PostgreSQL and Redis (the tests' own, tests/faults/own_services.py) stopped and started again
while the panel's code keeps being called from several threads: during the outage every call
either works or says the database cannot be reached (never another error), nothing is half
written, and everything works again without restarting anything of the panel."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
import redis
from starlette.testclient import TestClient

from saas_panel import migrations
from saas_panel.api.app import create_api, outermost
from saas_panel.db import UNREACHABLE
from saas_panel.errors import DatabaseUnavailable
from saas_panel.services import api_tokens, auth, coordination, plans, users
from tests.conftest import empty_postgres
from tests.faults.helpers import wait_until

pytestmark = pytest.mark.faults

CALLERS = 4


@pytest.fixture
def panel_on(own_services, monkeypatch):
    monkeypatch.setenv("REFLEX_DB_URL", empty_postgres(own_services.db_url))
    monkeypatch.setenv("REFLEX_REDIS_URL", own_services.redis_url)
    monkeypatch.setenv("SAAS_PANEL_BCRYPT_ROUNDS", "4")
    migrations.upgrade()
    users.ensure_admin("admin password")
    plans.ensure_default()
    return own_services


class Load:
    """CALLERS threads logging in and reading the user table until stopped; what each call ended with."""

    def __init__(self, call):
        self.outcomes: Counter[str] = Counter()
        self._call, self._stop = call, threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(CALLERS)]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._call()
                outcome = "ok"
            except DatabaseUnavailable as exc:
                outcome = str(exc)
            except Exception as exc:  # noqa: BLE001 - counted: the test fails on any
                outcome = f"{type(exc).__name__}: {exc}"
            self.outcomes[outcome] += 1

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def seen(self, outcome: str, at_least: int = 1) -> bool:
        return self.outcomes[outcome] >= at_least


def test_postgres_restarted_under_load_gives_a_clear_error_then_works_again(panel_on):
    alice = auth.register("alice", "alice@example.com", "alice password")
    api = TestClient(outermost(create_api()))
    api.headers["Authorization"] = f"Bearer {api_tokens.create(auth.authenticate('admin', 'admin password'), 'faults', 'admin', 1).token}"

    def a_request() -> None:
        auth.authenticate("alice", "alice password")
        users.find_user("alice")

    with Load(a_request) as load:
        wait_until(lambda: load.seen("ok"), "calls working before the outage")
        panel_on.stop_postgres()
        wait_until(lambda: load.seen(UNREACHABLE), "calls refused during the outage")
        with pytest.raises(DatabaseUnavailable, match="cannot be reached"):
            auth.register("bob", "bob@example.com", "bob password")
        response = api.post("/api/provision", json={"username": "carol", "email": "carol@example.com"})
        assert (response.status_code, response.json()) == (503, {"detail": UNREACHABLE})
        panel_on.start_postgres()
        after_restart = load.outcomes["ok"]
        wait_until(lambda: load.seen("ok", after_restart + 10), "calls working again after the restart")
    assert set(load.outcomes) == {"ok", UNREACHABLE}, load.outcomes

    assert users.find_user("bob") is None and users.find_user("carol") is None  # refused, and nothing of them written
    auth.register("bob", "bob@example.com", "bob password")  # the same process, no restart
    assert users.find_user("bob") is not None and users.find_user("alice").id == alice.id


def test_redis_restarted_the_collector_lease_is_taken_again_and_sessions_survive(panel_on):
    auth.register("alice", "alice@example.com", "alice password")
    _, session_token = auth.login("alice", "alice password")
    lease = coordination.collector_lease(ttl_s=30)
    assert lease.acquire_or_renew()

    panel_on.stop_redis()
    with pytest.raises(redis.ConnectionError):  # the collector loop takes this as "not the leader" and retries
        lease.acquire_or_renew()
    assert auth.resolve_session(session_token).username == "alice"  # sessions live in the database
    panel_on.start_redis()

    assert wait_until(lambda: _quietly(lease.acquire_or_renew), "the lease taken again once Redis is back")
    assert auth.resolve_session(session_token).username == "alice"


def _quietly(call):
    try:
        return call()
    except redis.ConnectionError:
        return None
