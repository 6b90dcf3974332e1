"""GET /metrics against the real engine: scoped tokens, the numbers the database holds, and a
scrape that asks the engine nothing."""

from __future__ import annotations

import time

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import select
from starlette.testclient import TestClient

from saas_panel import runtime
from saas_panel.api.app import create_api
from saas_panel.db import session_scope
from saas_panel.errors import AuthenticationError, EngineUnavailable
from saas_panel.models import ActivityLog, Container, Metric, User
from saas_panel.services import api_tokens, auth, counters, provisioning, storage, users
from saas_panel.services.monitor import Collector


class UnreachableEngine:
    """Every engine call fails as if the engine were down, and is counted."""

    def __init__(self):
        self.calls: list[str] = []

    def __getattr__(self, name):
        def call(*_args, **_kwargs):
            self.calls.append(name)
            raise EngineUnavailable("engine unreachable (test)")

        return call


@pytest.fixture
def api(engine):
    users.ensure_admin("admin password")
    admin = auth.authenticate("admin", "admin password")
    client = TestClient(create_api())
    client.tokens = {scope: api_tokens.create(admin, scope, scope, 30).token for scope in ("read", "admin", "metrics")}
    return client


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_needs_a_token_of_scope_metrics_or_admin(api):
    assert api.get("/metrics").status_code == 401
    assert api.get("/metrics", headers=bearer("spk_nope")).status_code == 401
    refused = api.get("/metrics", headers=bearer(api.tokens["read"]))
    assert refused.status_code == 403 and "metrics" in refused.json()["detail"]
    for scope in ("metrics", "admin"):
        answer = api.get("/metrics", headers=bearer(api.tokens[scope]))
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    # A Prometheus server's token reads /metrics and nothing else.
    assert api.get("/api/users", headers=bearer(api.tokens["metrics"])).status_code == 403
    assert api.get("/api/user/admin/port", headers=bearer(api.tokens["metrics"])).status_code == 403
    with session_scope() as session:
        denied = session.exec(select(ActivityLog.target).where(ActivityLog.outcome == "denied").order_by(ActivityLog.id)).all()
    assert denied == ["/metrics", "/api/users", "/api/user/admin/port"]


def test_scrape_reports_what_the_database_holds_without_calling_the_engine(api, make_user, monkeypatch):
    for name in ("alice", "bob"):
        make_user(name)
        provisioning.provision(name)
    provisioning.control("bob", "stop", actor="bob")
    collector = Collector(runtime.get_runtime())
    collector.sweep()
    time.sleep(0.3)
    collector.sweep()
    storage.sweep()
    with pytest.raises(AuthenticationError):
        auth.authenticate("alice", "wrong password")
    counters.set_gauge({counters.SWEEP_SECONDS: 0.25, counters.LAST_SWEEP_AT: 1_700_000_000})

    unreachable = UnreachableEngine()
    monkeypatch.setattr(runtime, "_shared", unreachable)
    answer = api.get("/metrics", headers=bearer(api.tokens["metrics"]))
    assert answer.status_code == 200, answer.text
    assert unreachable.calls == []
    found = samples(answer.text)

    with session_scope() as session:
        alice_id = session.exec(select(Container.id).join(User).where(User.username == "alice")).one()
        latest = session.exec(select(Metric).where(Metric.container_id == alice_id).order_by(Metric.ts.desc())).first()
        alice = session.exec(select(User).where(User.username == "alice")).one()
    assert found[("saas_panel_user_cpu_percent", (("user", "alice"),))] == latest.cpu_percent
    assert found[("saas_panel_user_memory_bytes", (("user", "alice"),))] == latest.mem_bytes
    assert found[("saas_panel_user_memory_limit_bytes", (("user", "alice"),))] == 128 * 1024 * 1024
    assert ("saas_panel_user_cpu_percent", (("user", "bob"),)) not in found  # stopped: no usage now
    assert found[("saas_panel_user_storage_bytes", (("user", "alice"),))] == alice.storage_used_bytes
    assert found[("saas_panel_user_storage_quota_bytes", (("user", "alice"),))] == 1024 * 1024 * 1024
    assert found[("saas_panel_containers", (("state", "running"),))] == 1
    assert found[("saas_panel_containers", (("state", "stopped"),))] == 1
    assert found[("saas_panel_provision_duration_seconds_count", ())] == 2
    assert found[("saas_panel_provision_duration_seconds_bucket", (("le", "+Inf"),))] == 2
    assert found[("saas_panel_provision_duration_seconds_sum", ())] > 0
    assert found[("saas_panel_login_failures_total", ())] == 1
    assert found[("saas_panel_collector_sweep_duration_seconds", ())] == 0.25
    assert found[("saas_panel_collector_last_sweep_timestamp_seconds", ())] == 1_700_000_000
