"""API tokens: shown once, stored hashed, scoped, expiring, revocable, tied to an active admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from saas_panel.db import session_scope
from saas_panel.errors import NotFound, ValidationError
from saas_panel.models import ActivityLog, ApiToken, User, utcnow
from saas_panel.services import api_tokens, auth, users
from saas_panel.services.security import hash_token


@pytest.fixture
def admin(db):
    users.ensure_admin("admin password")
    return auth.authenticate("admin", "admin password")


def test_the_raw_token_is_returned_once_and_only_its_hash_stored(admin):
    created = api_tokens.create(admin, "ci", "admin", 30)
    assert created.token.startswith(api_tokens.TOKEN_PREFIX) and len(created.token) > 40
    with session_scope() as session:
        row = session.get(ApiToken, created.id)
    assert row.token_hash == hash_token(created.token) and created.token not in (row.token_hash, row.prefix)
    assert created.token.startswith(row.prefix)
    assert api_tokens.create(admin, "ci", "admin", 30).token != created.token
    [listed, _] = sorted(api_tokens.list_tokens(), key=lambda r: r.id)
    assert (listed.name, listed.scope, listed.owner, listed.status) == ("ci", "admin", "admin", "active")
    assert not any(created.token in str(value) for value in vars(listed).values())


def test_resolve_gives_the_admin_and_scope_and_notes_last_use(admin):
    created = api_tokens.create(admin, "reader", "read", 1)
    principal = api_tokens.resolve(created.token)
    assert (principal.user.username, principal.scope, principal.can_write) == ("admin", "read", False)
    assert api_tokens.resolve(created.token[:-1] + "x") is None
    assert api_tokens.resolve("") is None and api_tokens.resolve("not-a-token") is None
    assert api_tokens.list_tokens()[0].last_used_at is not None


@pytest.mark.parametrize(
    ("name", "scope", "days", "field"),
    [("", "read", 30, "name"), ("x" * 65, "read", 30, "name"), ("ok", "root", 30, "scope"), ("ok", "read", 0, "expires_in_days"), ("ok", "read", 366, "expires_in_days"), ("ok", "read", "soon", "expires_in_days")],
)
def test_bad_input_is_a_validation_error_naming_the_field(admin, name, scope, days, field):
    with pytest.raises(ValidationError) as refused:
        api_tokens.create(admin, name, scope, days)
    assert refused.value.field == field


def test_expired_and_revoked_tokens_stop_working(admin):
    expiring = api_tokens.create(admin, "short", "read", 1)
    with session_scope() as session:
        session.get(ApiToken, expiring.id).expires_at = utcnow() - timedelta(seconds=1)
    assert api_tokens.resolve(expiring.token) is None
    assert api_tokens.list_tokens()[0].status == "expired"

    revoked = api_tokens.create(admin, "gone", "admin", 30)
    assert api_tokens.revoke(admin, revoked.id) == "gone"
    assert api_tokens.resolve(revoked.token) is None
    api_tokens.revoke(admin, revoked.id)  # twice is harmless and logged once
    with session_scope() as session:
        assert len(session.exec(select(ActivityLog).where(ActivityLog.action == "revoke_api_token")).all()) == 1
    with pytest.raises(NotFound):
        api_tokens.revoke(admin, 9999)


def test_a_token_dies_with_its_admins_role(admin, make_user):
    make_user("second", "password two")
    with session_scope() as session:
        second_id = session.exec(select(User.id).where(User.username == "second")).one()
    users.set_role(admin, second_id, "admin")
    second = auth.authenticate("second", "password two")
    created = api_tokens.create(second, "theirs", "admin", 30)
    assert api_tokens.resolve(created.token) is not None
    users.set_role(admin, second_id, "user")
    assert api_tokens.resolve(created.token) is None
    users.set_role(admin, second_id, "admin")
    users.set_active(admin, second_id, False)
    assert api_tokens.resolve(created.token) is None
