"""Admins' alert rules: create, change, delete, list. The webhook secret is made here and
returned once, on creation; lists never carry it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from saas_panel.db import session_scope
from saas_panel.errors import Conflict, NotFound, ValidationError
from saas_panel.models import Alert, AlertMetric, AlertRule, AlertScope, AlertState, Plan, User, utcnow
from saas_panel.services import activity
from saas_panel.services.auth import CurrentUser
from saas_panel.services.validation import check_number

NAME_MAX_CHARS = 64
URL_MAX_CHARS = 500
THRESHOLD_RANGE = {AlertMetric.CPU.value: (1.0, 6400.0), AlertMetric.MEMORY.value: (1.0, 100.0), AlertMetric.STORAGE.value: (1.0, 100.0)}
FOR_SECONDS_RANGE = (0, 86_400)


@dataclass(frozen=True)
class RuleInput:
    name: object = ""
    metric: object = AlertMetric.MEMORY.value
    threshold: object = None
    for_seconds: object = 0
    scope: object = AlertScope.EVERYONE.value
    scope_target: object = ""  # a username (scope user) or a plan's name (scope plan)
    webhook_url: object = ""  # None: keep the rule's webhook as it is (its URL may hold a token: forms do not show it)
    enabled: bool = True


@dataclass(frozen=True)
class RuleView:
    id: int
    name: str
    metric: str
    threshold: float
    for_seconds: int
    scope: str
    scope_target: str  # the user's or plan's name; "" for everyone
    webhook_url: str
    enabled: bool
    updated_at: datetime


@dataclass(frozen=True)
class SavedRule:
    rule: RuleView
    webhook_secret: str  # on creation with a webhook only; "" otherwise


def _text(raw, field: str, label: str, limit: int) -> str:
    value = "".join(ch for ch in str(raw or "") if ch.isprintable()).strip()
    if len(value) > limit:
        raise ValidationError(field, f"{label} must be at most {limit} characters.")
    return value


def _webhook_url(raw) -> str:
    url = _text(raw, "webhook_url", "The webhook URL", URL_MAX_CHARS)
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValidationError("webhook_url", "The webhook URL must start with http:// or https:// and name a host.")
    return url


def _scope_ids(session, scope: str, target) -> tuple[int | None, int | None]:
    name = _text(target, "scope_target", "The user or plan", 64)
    if scope == AlertScope.USER.value:
        user_id = session.exec(select(User.id).where(User.username == name.lower())).first()
        if user_id is None:
            raise ValidationError("scope_target", "There is no user with this name.")
        return user_id, None
    if scope == AlertScope.PLAN.value:
        plan_id = session.exec(select(Plan.id).where(Plan.name == name)).first()
        if plan_id is None:
            raise ValidationError("scope_target", "There is no plan with this name.")
        return None, plan_id
    return None, None


def _apply(session, row: AlertRule, data: RuleInput) -> None:
    name = _text(data.name, "name", "The name", NAME_MAX_CHARS)
    if not name:
        raise ValidationError("name", "Give the rule a name, e.g. memory high.")
    metric = str(data.metric)
    if metric not in THRESHOLD_RANGE:
        raise ValidationError("metric", "The metric must be cpu, memory or storage.")
    scope = str(data.scope)
    if scope not in {s.value for s in AlertScope}:
        raise ValidationError("scope", "The scope must be everyone, user or plan.")
    row.name, row.metric, row.scope = name, metric, scope
    threshold = check_number(data.threshold, float, THRESHOLD_RANGE[metric], "Threshold (%)", "threshold")
    if threshold is None:
        raise ValidationError("threshold", "Give the threshold in percent.")
    row.threshold = threshold
    row.for_seconds = check_number(data.for_seconds, int, FOR_SECONDS_RANGE, "For (seconds)", "for_seconds") or 0
    row.scope_user_id, row.scope_plan_id = _scope_ids(session, scope, data.scope_target)
    if data.webhook_url is not None:
        row.webhook_url = _webhook_url(data.webhook_url) or None
    row.enabled = bool(data.enabled)
    row.updated_at = utcnow()


def _view(session, row: AlertRule) -> RuleView:
    target = ""
    if row.scope_user_id is not None:
        target = session.exec(select(User.username).where(User.id == row.scope_user_id)).first() or ""
    elif row.scope_plan_id is not None:
        target = session.exec(select(Plan.name).where(Plan.id == row.scope_plan_id)).first() or ""
    return RuleView(row.id, row.name, row.metric, row.threshold, row.for_seconds, row.scope, target, row.webhook_url or "", row.enabled, row.updated_at)


def _summary(view: RuleView) -> str:
    scope = view.scope if not view.scope_target else f"{view.scope} {view.scope_target}"
    return f"{view.metric} > {view.threshold:g}% for {view.for_seconds} s, {scope}" + (", webhook" if view.webhook_url else "")


def _saved(session, row: AlertRule):
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("A rule with this name already exists.") from None
    return _view(session, row)


def _resolve_firing(session, admin: CurrentUser, row: AlertRule) -> None:
    """A rule switched off resolves its firing alerts (the collector no longer looks at them)."""
    now = utcnow()
    for alert in session.exec(select(Alert).where(Alert.rule_id == row.id, Alert.state == AlertState.FIRING.value)).all():
        alert.state, alert.resolved_at = AlertState.RESOLVED.value, now
        activity.record(activity.Action.ALERT_RESOLVED, actor=admin.username, target=alert.username, details=f"{row.name}: rule disabled", session=session)


def create_rule(admin: CurrentUser, data: RuleInput, ip: str | None = None) -> SavedRule:
    with session_scope() as session:
        row = AlertRule(name="", metric="", threshold=0)
        _apply(session, row, data)
        row.webhook_secret = secrets.token_urlsafe(32) if row.webhook_url else None
        session.add(row)
        view = _saved(session, row)
        activity.record(activity.Action.CREATE_ALERT_RULE, actor=admin.username, target=view.name, ip=ip, details=_summary(view), session=session, target_is_account=False)
        return SavedRule(view, row.webhook_secret or "")


def update_rule(admin: CurrentUser, rule_id: int, data: RuleInput, ip: str | None = None) -> SavedRule:
    """Change a rule; a webhook added where there was none gets a new secret (returned once)."""
    with session_scope() as session:
        row = session.get(AlertRule, int(rule_id))
        if row is None:
            raise NotFound("This alert rule does not exist.")
        _apply(session, row, data)
        new_secret = ""
        if row.webhook_url and not row.webhook_secret:
            new_secret = row.webhook_secret = secrets.token_urlsafe(32)
        elif not row.webhook_url:
            row.webhook_secret = None
        view = _saved(session, row)
        if not row.enabled:
            _resolve_firing(session, admin, row)
        activity.record(activity.Action.UPDATE_ALERT_RULE, actor=admin.username, target=view.name, ip=ip, details=_summary(view), session=session, target_is_account=False)
        return SavedRule(view, new_secret)


def delete_rule(admin: CurrentUser, rule_id: int, ip: str | None = None) -> str:
    """Delete a rule with its alerts; returns its name."""
    with session_scope() as session:
        row = session.get(AlertRule, int(rule_id))
        if row is None:
            raise NotFound("This alert rule does not exist.")
        name = row.name
        session.delete(row)
        activity.record(activity.Action.DELETE_ALERT_RULE, actor=admin.username, target=name, ip=ip, session=session, target_is_account=False)
        return name


def get_rule(rule_id: int) -> RuleView:
    with session_scope() as session:
        row = session.get(AlertRule, int(rule_id))
        if row is None:
            raise NotFound("This alert rule does not exist.")
        return _view(session, row)


def list_rules() -> list[RuleView]:
    with session_scope() as session:
        return [_view(session, row) for row in session.exec(select(AlertRule).order_by(AlertRule.name)).all()]
