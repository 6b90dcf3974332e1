"""SQLModel tables: the seed's four (users, containers, activity_logs, metrics) plus sessions.

All timestamps are timezone-aware UTC (`utcnow()`); SQLModel stores them as UTC everywhere.
"""

from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum
from typing import Optional

from sqlalchemy import BigInteger, Column, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Role(str, Enum):
    ADMIN = "admin"
    USER = "user"


class ContainerState(str, Enum):
    PROVISIONING = "provisioning"
    RUNNING = "running"
    STOPPED = "stopped"
    ERROR = "error"
    MISSING = "missing"


class Outcome(str, Enum):
    SUCCESS = "success"
    FAILURE = "failure"
    DENIED = "denied"


class Plan(SQLModel, table=True):
    """What an operator offers: the image, limits, storage and idle timeout of a user's app."""

    __tablename__ = "plans"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(40), unique=True, nullable=False))
    image: str = Field(max_length=200)
    cpu_limit: float
    mem_limit_mb: int
    storage_mb: int
    idle_stop_minutes: Optional[float] = Field(default=None)  # None: the panel's setting; 0: never
    is_default: bool = Field(default=False, index=True)  # exactly one: the plan of new accounts
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: Optional[int] = Field(default=None, primary_key=True)
    username: str = Field(sa_column=Column(String(32), unique=True, nullable=False, index=True))
    # The DNS label of the user's app host (<label>.apps...): the username for accounts made since
    # usernames are valid labels, a cleaned-up copy for older ones (migration 0004).
    host_label: str = Field(sa_column=Column(String(63), unique=True, nullable=False, index=True))
    email: str = Field(sa_column=Column(String(254), unique=True, nullable=False, index=True))
    password_hash: str = Field(max_length=100)
    role: str = Field(default=Role.USER.value, max_length=16, index=True)
    is_active: bool = Field(default=True, index=True)
    mem_limit_mb: Optional[int] = Field(default=None)
    cpu_limit: Optional[float] = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    last_login_at: Optional[datetime] = Field(default=None)
    idle_exempt: bool = Field(default=False)  # the idle culler never stops this user's container
    plan_id: Optional[int] = Field(default=None, foreign_key="plans.id", index=True, ondelete="SET NULL")  # None: the default plan
    # The collector's last measure of /data, and whether the 90 % warning was given since it last fell below.
    storage_used_bytes: Optional[int] = Field(default=None, sa_column=Column(BigInteger, index=True))
    storage_measured_at: Optional[datetime] = Field(default=None)
    storage_warned: bool = Field(default=False)
    # Set (with is_active off) when the account's deletion starts; a start finishes any deletion left so (recovery.py).
    deletion_started_at: Optional[datetime] = Field(default=None, index=True)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value


class UserSession(SQLModel, table=True):
    """A server-side login session. Only the SHA-256 of the token is stored."""

    __tablename__ = "sessions"

    id: Optional[int] = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False, index=True))
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    ip: Optional[str] = Field(default=None, max_length=64)


class Container(SQLModel, table=True):
    __tablename__ = "containers"
    __table_args__ = (UniqueConstraint("user_id", name="uq_containers_user_id"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: Optional[int] = Field(default=None, foreign_key="users.id", index=True, ondelete="SET NULL")
    name: str = Field(sa_column=Column(String(64), unique=True, nullable=False, index=True))
    engine_id: Optional[str] = Field(default=None, max_length=80, index=True)
    image: str = Field(max_length=200, index=True)
    state: str = Field(default=ContainerState.PROVISIONING.value, max_length=16, index=True)
    host_port: Optional[int] = Field(default=None)
    error: Optional[str] = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    started_at: Optional[datetime] = Field(default=None)
    last_activity_at: Optional[datetime] = Field(default=None, index=True)  # the last request through the edge
    node: Optional[str] = Field(default=None, max_length=255, index=True)  # the hostname of the node it runs on (an engine of several hosts)


class Node(SQLModel, table=True):
    """A host of an engine that spans several (a Swarm node), as the collector last saw it."""

    __tablename__ = "nodes"

    id: Optional[int] = Field(default=None, primary_key=True)
    hostname: str = Field(sa_column=Column(String(255), unique=True, nullable=False))
    address: str = Field(default="", max_length=64)
    role: str = Field(default="worker", max_length=16)
    ready: bool = Field(default=True)  # the engine hears from it
    available: bool = Field(default=True)  # it takes new apps (not drained)
    first_seen_at: datetime = Field(default_factory=utcnow)
    last_seen_at: Optional[datetime] = Field(default=None)  # the last sweep that found it ready
    updated_at: datetime = Field(default_factory=utcnow)  # when it last changed (went down, came back, was drained)


class ActivityLog(SQLModel, table=True):
    __tablename__ = "activity_logs"
    __table_args__ = (
        Index("ix_activity_logs_created_at_id", "created_at", "id"),
        # The log filtered by action and outcome (the usual "failed logins" view), newest first.
        Index("ix_activity_logs_action_outcome_created_at_id", "action", "outcome", "created_at", "id"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=64, index=True)  # a username, or "system"
    # The accounts' ids when the row was written: history stays with an account after it is
    # deleted, and a later account with the same name does not inherit it.
    actor_id: Optional[int] = Field(default=None, index=True)
    action: str = Field(max_length=64, index=True)  # an activity.Action value
    target: Optional[str] = Field(default=None, max_length=128, index=True)
    target_id: Optional[int] = Field(default=None, index=True)
    ip: Optional[str] = Field(default=None, max_length=64)
    outcome: str = Field(default=Outcome.SUCCESS.value, max_length=16, index=True)
    details: Optional[str] = Field(default=None, max_length=1000)


class Metric(SQLModel, table=True):
    __tablename__ = "metrics"
    __table_args__ = (Index("ix_metrics_container_resolution_ts", "container_id", "resolution", "ts"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    container_id: int = Field(foreign_key="containers.id", ondelete="CASCADE")
    ts: datetime = Field(default_factory=utcnow, index=True)
    resolution: int = Field(default=0)  # seconds per sample: 0 = raw, 60 = one-minute rollup
    cpu_percent: float = Field(default=0.0)
    mem_bytes: int = Field(default=0)
    mem_limit_bytes: Optional[int] = Field(default=None)


class ApiScope(str, Enum):
    READ = "read"
    ADMIN = "admin"
    METRICS = "metrics"  # GET /metrics only (a Prometheus server's token)


class ApiToken(SQLModel, table=True):
    """A bearer token for the REST API, acting as the admin who created it. Only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False, index=True))
    prefix: str = Field(max_length=12)  # the first characters, to recognise a token in a list
    scope: str = Field(default=ApiScope.READ.value, max_length=16)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    last_used_at: Optional[datetime] = Field(default=None)
    revoked_at: Optional[datetime] = Field(default=None)


class ThrottleHit(SQLModel, table=True):
    """One counted attempt under a throttle key such as "login:ip:10.0.0.1" (a sliding window)."""

    __tablename__ = "throttle_hits"
    __table_args__ = (Index("ix_throttle_hits_key_created_at", "key", "created_at"),)

    id: Optional[int] = Field(default=None, primary_key=True)
    key: str = Field(max_length=160)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Counter(SQLModel, table=True):
    """A number every worker of the deployment adds to or sets (login failures, the last sweep's
    duration, ...): /metrics reads these, so any worker answers a scrape with the same values."""

    __tablename__ = "counters"

    name: str = Field(sa_column=Column(String(120), primary_key=True))
    value: float = Field(default=0.0)
    updated_at: datetime = Field(default_factory=utcnow)



class AlertMetric(str, Enum):
    CPU = "cpu"  # percent of one core, as the dashboards show it
    MEMORY = "memory"  # percent of the container's memory limit
    STORAGE = "storage"  # percent of the plan's storage


class AlertScope(str, Enum):
    EVERYONE = "everyone"
    USER = "user"
    PLAN = "plan"


class AlertRule(SQLModel, table=True):
    """An admin's threshold: `metric` above `threshold` % for `for_seconds` fires an alert per user."""

    __tablename__ = "alert_rules"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    metric: str = Field(max_length=16)
    threshold: float
    for_seconds: int = Field(default=0)
    scope: str = Field(default=AlertScope.EVERYONE.value, max_length=16)
    scope_user_id: Optional[int] = Field(default=None, foreign_key="users.id", index=True, ondelete="CASCADE")
    scope_plan_id: Optional[int] = Field(default=None, foreign_key="plans.id", index=True, ondelete="CASCADE")
    enabled: bool = Field(default=True)
    webhook_url: Optional[str] = Field(default=None, max_length=500)
    webhook_secret: Optional[str] = Field(default=None, max_length=100)  # signs the webhook's body; shown once
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AlertState(str, Enum):
    FIRING = "firing"
    RESOLVED = "resolved"


class Alert(SQLModel, table=True):
    """One rule firing for one user, until it resolves."""

    __tablename__ = "alerts"

    id: Optional[int] = Field(default=None, primary_key=True)
    rule_id: int = Field(foreign_key="alert_rules.id", index=True, ondelete="CASCADE")
    user_id: Optional[int] = Field(default=None, foreign_key="users.id", index=True, ondelete="CASCADE")
    username: str = Field(max_length=32)
    value: float  # the metric when it fired
    state: str = Field(default=AlertState.FIRING.value, max_length=16, index=True)
    fired_at: datetime = Field(default_factory=utcnow, index=True)
    resolved_at: Optional[datetime] = Field(default=None)


class WebhookDelivery(SQLModel, table=True):
    """One alert event for a rule's webhook: queued with the alert, then POSTed until delivered or
    out of attempts. Pending while `next_attempt_at` is set, so a restart loses no retry."""

    __tablename__ = "webhook_deliveries"

    id: Optional[int] = Field(default=None, primary_key=True)
    alert_id: Optional[int] = Field(default=None, foreign_key="alerts.id", index=True, ondelete="CASCADE")
    event: str = Field(max_length=16)  # firing | resolved
    host: str = Field(max_length=255)  # the webhook's host only: a URL may carry a token
    attempts: int = Field(default=0)
    status_code: Optional[int] = Field(default=None)
    delivered: bool = Field(default=False)
    error: Optional[str] = Field(default=None, max_length=300)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    body: Optional[str] = Field(default=None, max_length=2000)  # the JSON sent, the same bytes at every attempt
    next_attempt_at: Optional[datetime] = Field(default=None, index=True)  # None: delivered or given up
