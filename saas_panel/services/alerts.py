"""Threshold alerts: each collector sweep checks every enabled rule against every user in its scope.

`Evaluator.step` is the whole decision, in memory from the sweep's samples: a
user's value above the threshold starts a clock; once it has stayed above for
the rule's `for_seconds`, the alert fires; the first sweep below (or with no
running app for CPU and memory) resolves it. `evaluate_sweep` feeds it from a
Snapshot plus one query (rules, users' plans and storage), and stores what
changed: an `alerts` row, and an activity row by the system on the user's
timeline. The webhooks to send are returned; `services/webhooks.py` sends them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import func, select

from saas_panel.db import session_scope
from saas_panel.models import Alert, AlertMetric, AlertRule, AlertScope, AlertState, Plan, User, WebhookDelivery, utcnow
from saas_panel.services import activity, plans, webhooks
from saas_panel.services.monitor import Snapshot


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    metric: str
    threshold: float
    for_seconds: int
    scope: str
    user_id: int | None = None
    plan_id: int | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None

    def covers(self, reading: Reading) -> bool:
        if self.scope == AlertScope.USER.value:
            return reading.user_id == self.user_id
        if self.scope == AlertScope.PLAN.value:
            return reading.plan_id == self.plan_id
        return True


@dataclass(frozen=True)
class Reading:
    """One user's numbers at a sweep, in percent; None where there is nothing to measure."""

    user_id: int
    username: str
    plan_id: int
    values: dict[str, float | None] = field(default_factory=dict)  # AlertMetric value -> percent


@dataclass(frozen=True)
class Transition:
    rule: Rule
    user_id: int
    username: str
    value: float | None  # the value that fired it, or the one it resolved at (None: nothing measured)
    firing: bool


class Evaluator:
    """The state between sweeps: since when each (rule, user) has been above, and what fires now."""

    def __init__(self, firing: dict[tuple[int, int], str] | None = None):
        self.firing: dict[tuple[int, int], str] = dict(firing or {})  # (rule id, user id) -> username
        self.above_since: dict[tuple[int, int], datetime] = {}

    @classmethod
    def from_database(cls) -> Evaluator:
        """Carry on after a restart or a new collector: what fires stays firing until it resolves."""
        with session_scope() as session:
            rows = session.exec(select(Alert.rule_id, Alert.user_id, Alert.username).where(Alert.state == AlertState.FIRING.value)).all()
        return cls({(rule_id, user_id): username for rule_id, user_id, username in rows if user_id is not None})

    def step(self, rules: list[Rule], readings: list[Reading], now: datetime) -> list[Transition]:
        transitions = []
        seen: set[tuple[int, int]] = set()
        for rule in rules:
            for reading in readings:
                if not rule.covers(reading):
                    continue
                key = (rule.id, reading.user_id)
                seen.add(key)
                value = reading.values.get(rule.metric)
                if value is not None and value > rule.threshold:
                    since = self.above_since.setdefault(key, now)
                    if key not in self.firing and (now - since).total_seconds() >= rule.for_seconds:
                        self.firing[key] = reading.username
                        transitions.append(Transition(rule, reading.user_id, reading.username, value, firing=True))
                    continue
                self.above_since.pop(key, None)
                if key in self.firing:
                    del self.firing[key]
                    transitions.append(Transition(rule, reading.user_id, reading.username, value, firing=False))
        by_id = {rule.id: rule for rule in rules}
        for key in [key for key in self.firing if key not in seen]:
            username = self.firing.pop(key)
            if key[0] in by_id:  # the user left the rule's scope (or is gone): resolved
                transitions.append(Transition(by_id[key[0]], key[1], username, None, firing=False))
            # else the rule was deleted (its alerts with it) or disabled (which resolved them)
        self.above_since = {key: at for key, at in self.above_since.items() if key in seen}
        return transitions


def _rules(session) -> list[Rule]:
    rows = session.exec(select(AlertRule).where(AlertRule.enabled)).all()
    return [
        Rule(row.id, row.name, row.metric, row.threshold, row.for_seconds, row.scope, row.scope_user_id, row.scope_plan_id, row.webhook_url, row.webhook_secret)
        for row in rows
    ]


def _percent(part: float | None, whole: float | None) -> float | None:
    return round(100.0 * part / whole, 2) if part is not None and whole else None


def readings(session, snapshot: Snapshot) -> list[Reading]:
    """Every user's CPU and memory from the sweep, and storage as last measured (one query)."""
    usage = {c.owner: c for c in snapshot.containers if c.owner}
    default_id = plans.default_plan(session).id
    rows = session.exec(
        select(User.id, User.username, Plan.id, User.storage_used_bytes, Plan.storage_mb)
        .join(Plan, Plan.id == func.coalesce(User.plan_id, default_id))
    ).all()
    result = []
    for user_id, username, plan_id, storage_used, storage_mb in rows:
        mine = usage.get(username)
        result.append(Reading(user_id, username, plan_id, {
            AlertMetric.CPU.value: mine.cpu_percent if mine else None,
            AlertMetric.MEMORY.value: _percent(mine.mem_bytes, mine.mem_limit_bytes) if mine else None,
            AlertMetric.STORAGE.value: _percent(storage_used, storage_mb * 1024 * 1024),
        }))
    return result


def _describe(transition: Transition) -> str:
    rule = transition.rule
    value = "nothing measured" if transition.value is None else f"{transition.value:g}%"
    if transition.firing:
        return f"{rule.name}: {rule.metric} {value} above {rule.threshold:g}% for {rule.for_seconds} s"
    return f"{rule.name}: {rule.metric} back to {value} (threshold {rule.threshold:g}%)"


def _store(session, transition: Transition, now: datetime) -> int:
    """The alert row for a transition (new when firing, closed when resolving); its id."""
    if transition.firing:
        row = Alert(rule_id=transition.rule.id, user_id=transition.user_id, username=transition.username, value=transition.value, fired_at=now)
        session.add(row)
    else:
        row = session.exec(
            select(Alert).where(Alert.rule_id == transition.rule.id, Alert.user_id == transition.user_id, Alert.state == AlertState.FIRING.value)
        ).first()
        if row is None:
            return 0
        row.state, row.resolved_at = AlertState.RESOLVED.value, now
    session.flush()
    activity.record(
        activity.Action.ALERT_FIRING if transition.firing else activity.Action.ALERT_RESOLVED,
        actor=activity.SYSTEM_ACTOR,
        target=transition.username,
        details=_describe(transition),
        session=session,
    )
    return row.id


def payload(transition: Transition, alert_id: int, now: datetime) -> dict:
    rule = transition.rule
    return {
        "event": "firing" if transition.firing else "resolved",
        "alert_id": alert_id,
        "rule": rule.name,
        "metric": rule.metric,
        "threshold": rule.threshold,
        "for_seconds": rule.for_seconds,
        "user": transition.username,
        "value": transition.value,
        "at": now.isoformat(),
    }


def evaluate_sweep(evaluator: Evaluator, snapshot: Snapshot, now: datetime | None = None) -> int:
    """Check every enabled rule against this sweep, store the alerts that fired or resolved and
    queue their webhooks (webhooks.deliver_due sends them); returns how many were queued."""
    now = now or utcnow()
    with session_scope() as session:
        rules = _rules(session)
        if not rules and not evaluator.firing:
            return 0
        transitions = evaluator.step(rules, readings(session, snapshot), now)
        queued = 0
        for transition in transitions:
            alert_id = _store(session, transition, now)
            if alert_id and transition.rule.webhook_url and transition.rule.webhook_secret:
                webhooks.queue(session, alert_id, transition.rule.webhook_url, payload(transition, alert_id, now), now)
                queued += 1
        return queued


# --- what the admin console shows ---------------------------------------------


@dataclass(frozen=True)
class AlertRow:
    id: int
    rule: str
    metric: str
    threshold: float
    username: str
    value: float
    state: str
    fired_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    rule: str
    username: str
    event: str
    host: str
    attempts: int
    status_code: int | None
    delivered: bool
    error: str
    created_at: datetime
    pending: bool  # another attempt is due (at next_attempt_at)


def recent_alerts(limit: int = 50, firing_only: bool = False) -> list[AlertRow]:
    """Firing alerts first, then the latest resolved ones."""
    with session_scope() as session:
        statement = select(Alert, AlertRule).join(AlertRule, AlertRule.id == Alert.rule_id)
        if firing_only:
            statement = statement.where(Alert.state == AlertState.FIRING.value)
        rows = session.exec(statement.order_by((Alert.state == AlertState.FIRING.value).desc(), Alert.fired_at.desc(), Alert.id.desc()).limit(limit)).all()
    return [AlertRow(a.id, r.name, r.metric, r.threshold, a.username, a.value, a.state, a.fired_at, a.resolved_at) for a, r in rows]


def recent_deliveries(limit: int = 50) -> list[DeliveryRow]:
    with session_scope() as session:
        rows = session.exec(
            select(WebhookDelivery, Alert, AlertRule)
            .join(Alert, Alert.id == WebhookDelivery.alert_id)
            .join(AlertRule, AlertRule.id == Alert.rule_id)
            .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
            .limit(limit)
        ).all()
    return [
        DeliveryRow(d.id, r.name, a.username, d.event, d.host, d.attempts, d.status_code, d.delivered, d.error or "", d.created_at,
                    pending=d.next_attempt_at is not None)
        for d, a, r in rows
    ]
