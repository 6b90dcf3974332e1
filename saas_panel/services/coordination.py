"""Coordination between backend workers.

With Redis (several workers), exactly one worker holds the collector lease;
if it dies, the lease expires and another worker takes over at its next
tick. The set of users watching their dashboard is shared the same way, since
a user's tab may be served by a worker other than the collector's. Without
Redis there is a single worker, and both are plain in-process objects.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
import uuid
from typing import Protocol

from saas_panel.config import get_settings

LEASE_KEY = "saas-panel:collector-lease"
WATCHERS_KEY = "saas-panel:watched-users"
# An open dashboard renews its user's watch every WATCH_RENEW_S; a closed one stops costing a
# sweep's publish WATCH_TTL_S after its last renewal.
WATCH_RENEW_S = 240
WATCH_TTL_S = 600

# Take the lease if free, or extend it if we hold it; atomic on the Redis server.
_ACQUIRE_OR_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return 1
end
if not holder then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
    return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Lease(Protocol):
    holder: str

    def acquire_or_renew(self) -> bool: ...

    def release(self) -> None: ...


class Watchers(Protocol):
    def add(self, username: str) -> None: ...

    def current(self) -> set[str]: ...


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class LocalLease:
    def __init__(self) -> None:
        self.holder = worker_identity()

    def acquire_or_renew(self) -> bool:
        return True

    def release(self) -> None:
        pass


class RedisLease:
    def __init__(self, client, ttl_s: float, key: str = LEASE_KEY, holder: str | None = None):
        self.client = client
        self.key = key
        self.ttl_ms = int(ttl_s * 1000)
        self.holder = holder or worker_identity()

    def acquire_or_renew(self) -> bool:
        return bool(self.client.eval(_ACQUIRE_OR_RENEW, 1, self.key, self.holder, self.ttl_ms))

    def release(self) -> None:
        self.client.eval(_RELEASE, 1, self.key, self.holder)


class LocalWatchers:
    def __init__(self) -> None:
        self._seen: dict[str, float] = {}

    def add(self, username: str) -> None:
        self._seen[username] = time.time()

    def current(self) -> set[str]:
        horizon = time.time() - WATCH_TTL_S
        return {name for name, at in self._seen.items() if at >= horizon}


class RedisWatchers:
    def __init__(self, client, key: str = WATCHERS_KEY):
        self.client = client
        self.key = key

    def add(self, username: str) -> None:
        self.client.zadd(self.key, {username: time.time()})

    def current(self) -> set[str]:
        horizon = time.time() - WATCH_TTL_S
        self.client.zremrangebyscore(self.key, "-inf", horizon)
        return {name.decode() if isinstance(name, bytes) else name for name in self.client.zrange(self.key, 0, -1)}


def _redis_client():
    import redis

    return redis.Redis.from_url(get_settings().redis_url, socket_timeout=5)


def deployment_key(key: str) -> str:
    """`key` for this deployment (the panels sharing its database): two deployments on one Redis
    never share a lease or a watcher set."""
    return f"{key}:{hashlib.sha256(get_settings().db_url.encode()).hexdigest()[:12]}"


def collector_lease(ttl_s: float, key: str = LEASE_KEY) -> Lease:
    """The lease of the one worker running a deployment-wide job (`key` names the job)."""
    return RedisLease(_redis_client(), ttl_s, deployment_key(key)) if get_settings().redis_url else LocalLease()


def dashboard_watchers() -> Watchers:
    return RedisWatchers(_redis_client(), deployment_key(WATCHERS_KEY)) if get_settings().redis_url else LocalWatchers()
