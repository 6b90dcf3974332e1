"""The deployment's numbers in the Prometheus text format, for GET /metrics.

Everything comes from the database: per-user usage from the collector's last
samples, storage from its last measure, containers from their rows, and the
counters every worker adds to (`services/counters.py`). A scrape therefore
never calls the engine, and whichever worker answers it gives the same values.
Only the number of connected browsers comes from the caller (Reflex knows it).
"""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from sqlmodel import func, select

from saas_panel.db import session_scope
from saas_panel.models import Container, ContainerState, Metric, Plan, User, utcnow
from saas_panel.services import counters, metrics, plans

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PREFIX = "saas_panel"
SAMPLE_HORIZON = timedelta(minutes=10)  # older samples of a running container are not "now"


def _latest_usage(session) -> list[tuple[str, float, int, int | None]]:
    """(username, cpu %, memory bytes, memory limit) of every running container's last sample."""
    latest = (
        select(Metric.container_id, func.max(Metric.ts).label("ts"))
        .where(Metric.resolution == metrics.RAW, Metric.ts >= utcnow() - SAMPLE_HORIZON)
        .group_by(Metric.container_id)
        .subquery()
    )
    return session.exec(
        select(User.username, Metric.cpu_percent, Metric.mem_bytes, Metric.mem_limit_bytes)
        .join(latest, (latest.c.container_id == Metric.container_id) & (latest.c.ts == Metric.ts))
        .join(Container, Container.id == Metric.container_id)
        .join(User, User.id == Container.user_id)
        .where(Metric.resolution == metrics.RAW, Container.state == ContainerState.RUNNING.value)
        .order_by(User.username)
    ).all()


def _storage(session) -> list[tuple[str, int, int]]:
    """(username, bytes used as last measured, plan quota in MB) of every measured user."""
    default_id = plans.default_plan(session).id
    return session.exec(
        select(User.username, User.storage_used_bytes, Plan.storage_mb)
        .join(Plan, Plan.id == func.coalesce(User.plan_id, default_id))
        .where(User.storage_used_bytes.is_not(None))
        .order_by(User.username)
    ).all()


def _containers_by_state(session) -> dict[str, int]:
    counts = dict(session.exec(select(Container.state, func.count()).group_by(Container.state)).all())
    return {state.value: counts.get(state.value, 0) for state in ContainerState}


class PanelCollector(Collector):
    def __init__(self, websocket_clients: int | None):
        self.websocket_clients = websocket_clients

    def collect(self):
        with session_scope() as session:
            usage, storage, states = _latest_usage(session), _storage(session), _containers_by_state(session)
        values = counters.read_all()
        yield from self._usage(usage, storage)
        by_state = GaugeMetricFamily(f"{PREFIX}_containers", "User containers by state (the panel's rows, kept in step with the engine)", labels=["state"])
        for state, count in states.items():
            by_state.add_metric([state], count)
        yield by_state
        buckets, total = counters.histogram(values, counters.PROVISION_SECONDS, counters.PROVISION_BUCKETS)
        yield HistogramMetricFamily(f"{PREFIX}_provision_duration_seconds", "Time a provision took to give a running container", buckets=buckets, sum_value=total)
        yield CounterMetricFamily(f"{PREFIX}_login_failures", "Failed logins (wrong password, unknown user, disabled account)", value=values.get(counters.LOGIN_FAILURES, 0.0))
        throttled = CounterMetricFamily(f"{PREFIX}_throttled", "Attempts refused by a throttle, by kind (login, signup, api, control)", labels=["kind"])
        for name, value in sorted(values.items()):
            if name.startswith(f"{counters.THROTTLED}:"):
                throttled.add_metric([name.split(":", 1)[1]], value)
        yield throttled
        yield GaugeMetricFamily(f"{PREFIX}_collector_sweep_duration_seconds", "Duration of the collector's last sweep", value=values.get(counters.SWEEP_SECONDS, 0.0))
        yield GaugeMetricFamily(f"{PREFIX}_collector_last_sweep_timestamp_seconds", "When the collector's last sweep ended (Unix time)", value=values.get(counters.LAST_SWEEP_AT, 0.0))
        if self.websocket_clients is not None:
            yield GaugeMetricFamily(f"{PREFIX}_websocket_clients", "Browser tabs connected to the panel (every worker's)", value=self.websocket_clients)

    @staticmethod
    def _usage(usage, storage):
        cpu = GaugeMetricFamily(f"{PREFIX}_user_cpu_percent", "CPU of a user's running container at the last sweep (100 = one core)", labels=["user"])
        memory = GaugeMetricFamily(f"{PREFIX}_user_memory_bytes", "Memory of a user's running container at the last sweep", labels=["user"])
        memory_limit = GaugeMetricFamily(f"{PREFIX}_user_memory_limit_bytes", "Memory limit of a user's running container", labels=["user"])
        for username, cpu_percent, mem_bytes, mem_limit in usage:
            cpu.add_metric([username], cpu_percent)
            memory.add_metric([username], mem_bytes)
            if mem_limit:
                memory_limit.add_metric([username], mem_limit)
        used = GaugeMetricFamily(f"{PREFIX}_user_storage_bytes", "A user's /data as last measured", labels=["user"])
        quota = GaugeMetricFamily(f"{PREFIX}_user_storage_quota_bytes", "A user's storage quota (their plan's)", labels=["user"])
        for username, used_bytes, quota_mb in storage:
            used.add_metric([username], used_bytes)
            quota.add_metric([username], quota_mb * 1024 * 1024)
        yield from (cpu, memory, memory_limit, used, quota)


def scrape(websocket_clients: int | None = None) -> bytes:
    """The text exposition of everything above; `websocket_clients` None leaves that gauge out."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PanelCollector(websocket_clients))
    return generate_latest(registry)
