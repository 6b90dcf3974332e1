"""Threshold alerts: the evaluation (for-duration, resolve, scope), the rules, and what a sweep stores."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from saas_panel.db import session_scope
from saas_panel.errors import Conflict, ValidationError
from saas_panel.models import ActivityLog, Alert, User
from saas_panel.services import activity, alert_rules, alerts, auth, plans, users
from saas_panel.services.alerts import Evaluator, Reading, Rule
from saas_panel.services.monitor import ContainerUsage, Snapshot

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
MB = 1024 * 1024


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def reading(user_id: int, memory: float | None, plan_id: int = 1, name: str | None = None) -> Reading:
    return Reading(user_id, name or f"user{user_id}", plan_id, {"memory": memory})


MEMORY_90_FOR_60 = Rule(1, "memory high", "memory", 90.0, 60, "everyone")


def test_fires_only_after_staying_above_for_the_duration():
    evaluator = Evaluator()
    assert evaluator.step([MEMORY_90_FOR_60], [reading(7, 95)], at(0)) == []
    assert evaluator.step([MEMORY_90_FOR_60], [reading(7, 96)], at(30)) == []
    [fired] = evaluator.step([MEMORY_90_FOR_60], [reading(7, 97)], at(60))
    assert (fired.firing, fired.username, fired.value) == (True, "user7", 97)
    assert evaluator.step([MEMORY_90_FOR_60], [reading(7, 99)], at(65)) == []  # fires once


def test_a_dip_below_restarts_the_clock():
    evaluator = Evaluator()
    evaluator.step([MEMORY_90_FOR_60], [reading(7, 95)], at(0))
    evaluator.step([MEMORY_90_FOR_60], [reading(7, 50)], at(40))
    assert evaluator.step([MEMORY_90_FOR_60], [reading(7, 95)], at(70)) == []
    assert evaluator.step([MEMORY_90_FOR_60], [reading(7, 95)], at(129)) == []
    assert len(evaluator.step([MEMORY_90_FOR_60], [reading(7, 95)], at(130))) == 1


def test_resolves_below_the_threshold_or_with_nothing_measured():
    rule = Rule(1, "memory high", "memory", 90.0, 0, "everyone")
    evaluator = Evaluator()
    assert [t.firing for t in evaluator.step([rule], [reading(1, 91), reading(2, 91)], at(0))] == [True, True]
    [resolved] = evaluator.step([rule], [reading(1, 90), reading(2, 91)], at(5))  # equal is not above
    assert (resolved.firing, resolved.user_id, resolved.value) == (False, 1, 90)
    [stopped] = evaluator.step([rule], [reading(1, 10), reading(2, None)], at(10))
    assert (stopped.firing, stopped.user_id, stopped.value) == (False, 2, None)
    assert evaluator.step([rule], [reading(1, 10), reading(2, None)], at(15)) == []


def test_scope_user_and_plan():
    for_bob = Rule(1, "bob", "memory", 50, 0, "user", user_id=2)
    for_pro = Rule(2, "pro", "memory", 50, 0, "plan", plan_id=9)
    fired = Evaluator().step([for_bob, for_pro], [reading(1, 99, plan_id=9), reading(2, 99, plan_id=1), reading(3, 99, plan_id=1)], at(0))
    assert sorted((t.rule.name, t.user_id) for t in fired) == [("bob", 2), ("pro", 1)]


def test_leaving_the_scope_resolves_and_a_removed_rule_is_forgotten():
    rule = Rule(1, "pro", "memory", 50, 0, "plan", plan_id=9)
    evaluator = Evaluator()
    evaluator.step([rule], [reading(1, 99, plan_id=9)], at(0))
    [moved] = evaluator.step([rule], [reading(1, 99, plan_id=1)], at(5))
    assert (moved.firing, moved.username) == (False, "user1")
    evaluator.step([rule], [reading(1, 99, plan_id=9)], at(10))
    assert evaluator.step([], [reading(1, 99, plan_id=9)], at(15)) == [] and evaluator.firing == {}


def test_an_evaluator_from_the_database_does_not_fire_again(db, make_user):
    admin = _admin()
    make_user("alice")
    alert_rules.create_rule(admin, alert_rules.RuleInput(name="mem", metric="memory", threshold=50, for_seconds=0))
    alerts.evaluate_sweep(Evaluator.from_database(), snapshot_of(alice=0.9))
    assert alerts.evaluate_sweep(Evaluator.from_database(), snapshot_of(alice=0.9)) == 0
    with session_scope() as session:
        assert len(session.exec(select(Alert)).all()) == 1


def _admin():
    users.ensure_admin("admin password")
    return auth.authenticate("admin", "admin password")


def snapshot_of(**memory_fraction: float) -> Snapshot:
    return Snapshot(
        at=T0,
        containers=[ContainerUsage(f"saas-user-{name}", name, "running", 5.0, int(fraction * 100 * MB), 100 * MB) for name, fraction in memory_fraction.items()],
        by_state={"running": len(memory_fraction)},
    )


def test_a_sweep_stores_firing_and_resolved_alerts_on_the_users_timeline(db, make_user):
    admin = _admin()
    make_user("alice")
    make_user("bob")
    alert_rules.create_rule(admin, alert_rules.RuleInput(name="alice memory", metric="memory", threshold=80, for_seconds=10, scope="user", scope_target="alice"))
    evaluator = Evaluator.from_database()
    assert alerts.evaluate_sweep(evaluator, snapshot_of(alice=0.85, bob=0.99), now=at(0)) == 0
    alerts.evaluate_sweep(evaluator, snapshot_of(alice=0.86, bob=0.99), now=at(10))
    [firing] = alerts.recent_alerts(firing_only=True)
    assert (firing.rule, firing.username, firing.value, firing.state) == ("alice memory", "alice", 86.0, "firing")
    alerts.evaluate_sweep(evaluator, snapshot_of(alice=0.5), now=at(20))
    assert alerts.recent_alerts(firing_only=True) == []
    with session_scope() as session:
        logged = session.exec(select(ActivityLog).where(ActivityLog.action.like("alert_%")).order_by(ActivityLog.id)).all()
    assert [(row.action, row.actor, row.target) for row in logged] == [("alert_firing", "system", "alice"), ("alert_resolved", "system", "alice")]
    assert "86%" in logged[0].details and "80%" in logged[0].details
    assert [row.action for row in activity.timeline("alice")][:2] == ["alert_resolved", "alert_firing"]


def test_storage_rule_uses_the_last_measure_and_the_plan_quota(db, make_user):
    admin = _admin()
    make_user("carol")
    with session_scope() as session:
        quota_mb = plans.default_plan(session).storage_mb
        carol = session.exec(select(User).where(User.username == "carol")).one()
        carol.storage_used_bytes = int(quota_mb * MB * 0.95)
    alert_rules.create_rule(admin, alert_rules.RuleInput(name="disk", metric="storage", threshold=90, scope="plan", scope_target=plans.list_plans()[0].name))
    alerts.evaluate_sweep(Evaluator.from_database(), snapshot_of())
    [firing] = alerts.recent_alerts(firing_only=True)
    assert (firing.username, firing.value) == ("carol", 95.0)


def test_disabling_a_rule_resolves_its_alerts(db, make_user):
    admin = _admin()
    make_user("dave")
    saved = alert_rules.create_rule(admin, alert_rules.RuleInput(name="cpu", metric="cpu", threshold=1))
    alerts.evaluate_sweep(Evaluator.from_database(), snapshot_of(dave=0.1))
    assert len(alerts.recent_alerts(firing_only=True)) == 1
    alert_rules.update_rule(admin, saved.rule.id, alert_rules.RuleInput(name="cpu", metric="cpu", threshold=1, enabled=False))
    assert alerts.recent_alerts(firing_only=True) == [] and alerts.recent_alerts()[0].state == "resolved"


def test_rule_input_is_checked_and_names_are_unique(db, make_user):
    admin = _admin()
    make_user("erin")
    bad = [
        (dict(name=""), "name"),
        (dict(name="x", metric="disk"), "metric"),
        (dict(name="x", threshold=None), "threshold"),
        (dict(name="x", threshold=101), "threshold"),
        (dict(name="x", threshold="many"), "threshold"),
        (dict(name="x", for_seconds=-1), "for_seconds"),
        (dict(name="x", scope="team"), "scope"),
        (dict(name="x", scope="user", scope_target="nobody"), "scope_target"),
        (dict(name="x", scope="plan", scope_target="no plan"), "scope_target"),
        (dict(name="x", webhook_url="ftp://example.com/"), "webhook_url"),
        (dict(name="x", webhook_url="javascript:alert(1)"), "webhook_url"),
    ]
    for fields, field in bad:
        with pytest.raises(ValidationError) as caught:
            alert_rules.create_rule(admin, alert_rules.RuleInput(**({"threshold": 50} | fields)))
        assert caught.value.field == field, fields
    assert alert_rules.list_rules() == []
    saved = alert_rules.create_rule(admin, alert_rules.RuleInput(name="cpu", metric="cpu", threshold=150, webhook_url="https://hooks.example/x"))
    assert len(saved.webhook_secret) >= 40 and saved.rule.scope == "everyone"
    assert "secret" not in repr(alert_rules.list_rules()).lower()
    with pytest.raises(Conflict):
        alert_rules.create_rule(admin, alert_rules.RuleInput(name="cpu", metric="cpu", threshold=150))
    assert alert_rules.delete_rule(admin, saved.rule.id) == "cpu" and alert_rules.list_rules() == []
