"""API tokens: created by an admin, shown once, stored as SHA-256, scoped, expiring, revocable.

A token acts as the admin who created it, and only while that account is an
active admin: demoting, disabling or deleting the admin ends their tokens too.
Scope `read` allows the GET routes; `admin` allows everything; `metrics` only GET /metrics.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import select

from saas_panel.db import session_scope
from saas_panel.errors import NotFound, ValidationError
from saas_panel.models import ApiScope, ApiToken, User, utcnow
from saas_panel.services import activity
from saas_panel.services.auth import CurrentUser, _as_current
from saas_panel.services.security import SESSION_TOKEN_BYTES, hash_token

TOKEN_PREFIX = "spk_"  # makes a leaked token recognisable to secret scanners
SCOPES = tuple(scope.value for scope in ApiScope)
EXPIRY_DAYS_RANGE = (1, 365)
NAME_MAX_CHARS = 64
LAST_USED_WRITE_INTERVAL = timedelta(seconds=60)


@dataclass(frozen=True)
class NewToken:
    id: int
    name: str
    scope: str
    expires_at: datetime
    token: str  # the raw token: returned here once, never stored


@dataclass(frozen=True)
class TokenPrincipal:
    """Who is calling the API with a valid token."""

    token_id: int
    name: str
    scope: str
    user: CurrentUser

    @property
    def can_write(self) -> bool:
        return self.scope == ApiScope.ADMIN.value


@dataclass(frozen=True)
class TokenRow:
    id: int
    name: str
    prefix: str
    scope: str
    owner: str
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    status: str  # active | expired | revoked


def _name(raw) -> str:
    name = "".join(ch for ch in str(raw or "") if ch.isprintable()).strip()
    if not name:
        raise ValidationError("name", "Give the token a name, e.g. what will use it.")
    if len(name) > NAME_MAX_CHARS:
        raise ValidationError("name", f"The name must be at most {NAME_MAX_CHARS} characters.")
    return name


def _days(raw) -> int:
    try:
        days = int(str(raw).strip())
    except (TypeError, ValueError):
        raise ValidationError("expires_in_days", "Expiry must be a whole number of days.") from None
    low, high = EXPIRY_DAYS_RANGE
    if not low <= days <= high:
        raise ValidationError("expires_in_days", f"Expiry must be between {low} and {high} days.")
    return days


def create(admin: CurrentUser, name, scope, expires_in_days, ip: str | None = None) -> NewToken:
    name, days = _name(name), _days(expires_in_days)
    if scope not in SCOPES:
        raise ValidationError("scope", "Scope must be read, admin or metrics.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(SESSION_TOKEN_BYTES)
    now = utcnow()
    with session_scope() as session:
        row = ApiToken(
            name=name,
            token_hash=hash_token(raw),
            prefix=raw[: len(TOKEN_PREFIX) + 6],
            scope=scope,
            user_id=admin.id,
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
        session.add(row)
        session.flush()
        activity.record(activity.Action.CREATE_API_TOKEN, actor=admin.username, target=name, ip=ip, details=f"scope {scope}, {days} days", session=session, target_is_account=False)
        return NewToken(id=row.id, name=name, scope=scope, expires_at=row.expires_at, token=raw)


def revoke(admin: CurrentUser, token_id, ip: str | None = None) -> str:
    """Revoke a token at once; returns its name. Revoking twice is harmless."""
    try:
        token_id = int(token_id)
    except (TypeError, ValueError):
        raise NotFound("This token does not exist.") from None
    with session_scope() as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise NotFound("This token does not exist.")
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            activity.record(activity.Action.REVOKE_API_TOKEN, actor=admin.username, target=row.name, ip=ip, session=session, target_is_account=False)
        return row.name


def resolve(raw: str | None) -> TokenPrincipal | None:
    """The principal behind a raw token, or None if it is unknown, revoked, expired or its admin is gone."""
    if not raw or not raw.startswith(TOKEN_PREFIX):
        return None
    now = utcnow()
    with session_scope() as session:
        found = session.exec(
            select(ApiToken, User).join(User, User.id == ApiToken.user_id).where(ApiToken.token_hash == hash_token(raw))
        ).first()
        if found is None:
            return None
        token, user = found
        if token.revoked_at is not None or token.expires_at <= now or not (user.is_active and user.is_admin):
            return None
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_WRITE_INTERVAL:
            token.last_used_at = now
        return TokenPrincipal(token_id=token.id, name=token.name, scope=token.scope, user=_as_current(user))


def list_tokens() -> list[TokenRow]:
    now = utcnow()
    with session_scope() as session:
        rows = session.exec(select(ApiToken, User.username).join(User, User.id == ApiToken.user_id).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).all()
    return [
        TokenRow(
            id=token.id,
            name=token.name,
            prefix=token.prefix,
            scope=token.scope,
            owner=owner,
            created_at=token.created_at,
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
            status="revoked" if token.revoked_at else ("expired" if token.expires_at <= now else "active"),
        )
        for token, owner in rows
    ]
