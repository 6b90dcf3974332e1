"""Cross-worker coordination on a real Redis: one collector lease, shared dashboard watchers."""

from __future__ import annotations

import os
import time

import pytest

from saas_panel.services.coordination import LocalLease, RedisLease, RedisWatchers


@pytest.fixture
def redis_client():
    url = os.environ.get("SAAS_PANEL_TEST_REDIS_URL")
    if not url:
        pytest.fail("SAAS_PANEL_TEST_REDIS_URL is not set: run `make test`, which starts Redis")
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    yield client
    client.flushdb()


def test_only_one_worker_holds_the_lease(redis_client):
    first = RedisLease(redis_client, ttl_s=5, holder="worker-a")
    second = RedisLease(redis_client, ttl_s=5, holder="worker-b")
    assert first.acquire_or_renew() is True
    assert second.acquire_or_renew() is False
    assert first.acquire_or_renew() is True  # renewal by the holder
    first.release()
    assert second.acquire_or_renew() is True
    assert first.acquire_or_renew() is False


def test_lease_moves_when_its_holder_dies(redis_client):
    dead = RedisLease(redis_client, ttl_s=0.3, holder="worker-dead")
    survivor = RedisLease(redis_client, ttl_s=5, holder="worker-alive")
    assert dead.acquire_or_renew()
    assert not survivor.acquire_or_renew()
    time.sleep(0.45)  # the dead worker stopped renewing
    assert survivor.acquire_or_renew()


def test_release_by_a_non_holder_changes_nothing(redis_client):
    holder = RedisLease(redis_client, ttl_s=5, holder="worker-a")
    other = RedisLease(redis_client, ttl_s=5, holder="worker-b")
    holder.acquire_or_renew()
    other.release()
    assert not other.acquire_or_renew()


def test_watchers_are_shared_between_workers(redis_client):
    RedisWatchers(redis_client).add("alice")
    RedisWatchers(redis_client).add("bob")
    assert RedisWatchers(redis_client).current() == {"alice", "bob"}


def test_single_worker_lease_is_always_held():
    assert LocalLease().acquire_or_renew()


def test_deployments_sharing_one_redis_do_not_share_a_lease(redis_client, monkeypatch):
    from saas_panel.services import coordination

    monkeypatch.setenv("REFLEX_REDIS_URL", os.environ["SAAS_PANEL_TEST_REDIS_URL"])
    monkeypatch.setenv("REFLEX_DB_URL", "sqlite:////srv/first/panel.db")
    first = coordination.collector_lease(ttl_s=5)
    first_watchers = coordination.dashboard_watchers()
    monkeypatch.setenv("REFLEX_DB_URL", "sqlite:////srv/second/panel.db")
    second = coordination.collector_lease(ttl_s=5)
    second_watchers = coordination.dashboard_watchers()
    assert first.acquire_or_renew() and second.acquire_or_renew()
    first_watchers.add("alice")
    assert second_watchers.current() == set()
    first.release()
    second.release()
