"""Deployment-wide counters: atomic adds from many threads, histograms, throttle refusals by kind."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from saas_panel.errors import Throttled
from saas_panel.services import counters, throttle


def test_parallel_adds_lose_nothing(db):
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: counters.add("hits"), range(80)))
    assert counters.read_all()["hits"] == 80


def test_a_gauge_is_replaced_not_added(db):
    counters.set_gauge({"sweep": 2.0})
    counters.set_gauge({"sweep": 0.5})
    assert counters.read_all()["sweep"] == 0.5


def test_histogram_buckets_are_cumulative_and_end_with_inf(db):
    for seconds in (0.2, 0.7, 3.0, 500.0):
        counters.observe("latency", seconds, (0.5, 1.0, 5.0))
    buckets, total = counters.histogram(counters.read_all(), "latency", (0.5, 1.0, 5.0))
    assert buckets == [("0.5", 1), ("1.0", 2), ("5.0", 3), ("+Inf", 4)]
    assert total == pytest.approx(503.9)


def test_throttle_refusals_are_counted_by_kind_and_once_refusals_are_not(db):
    limit = throttle.Limit("login:ip:10.0.0.1", 1, 60)
    throttle.hit(limit)
    for _ in range(2):
        with pytest.raises(Throttled):
            throttle.hit(throttle.Limit("login:user:alice", 5, 60), limit)
    assert throttle.once("log:x", 60) and not throttle.once("log:x", 60)
    values = counters.read_all()
    assert values["throttled:login"] == 2
    assert not [name for name in values if name.startswith("throttled:log:") or name == "throttled:log"]
