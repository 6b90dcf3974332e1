"""Account changes by an admin: the rules that protect the console itself."""

from __future__ import annotations

import pytest
from sqlmodel import select

from saas_panel.db import session_scope
from saas_panel.errors import Conflict, PermissionDenied, ValidationError
from saas_panel.models import ActivityLog, User
from saas_panel.services import auth, users


@pytest.fixture
def admin(make_user):
    users.ensure_admin("admin password")
    user, _ = auth.login("admin", "admin password")
    return user


def _user(name: str) -> User:
    with session_scope() as session:
        return session.exec(select(User).where(User.username == name)).one()


def test_an_admin_cannot_demote_disable_or_delete_themselves(admin):
    with pytest.raises(PermissionDenied):
        users.set_role(admin, admin.id, "user")
    with pytest.raises(PermissionDenied):
        users.set_active(admin, admin.id, False)
    with pytest.raises(PermissionDenied):
        users.admin_delete_user(admin, admin.id)
    with pytest.raises(PermissionDenied):
        users.reset_password(admin, admin.id)
    assert _user("admin").is_admin and _user("admin").is_active


def test_the_last_admin_cannot_be_demoted(admin, make_user):
    make_user("second", "password two")
    second = _user("second")
    users.set_role(admin, second.id, "admin")
    stale_second, _ = auth.login("second", "password two")  # resolved while still an admin
    users.set_role(admin, second.id, "user")
    with pytest.raises(Conflict, match="last administrator"):
        users.set_role(stale_second, admin.id, "user")
    with pytest.raises(Conflict, match="last administrator"):
        users.set_active(stale_second, admin.id, False)
    assert _user("admin").is_admin and _user("admin").is_active


def test_promote_and_demote_are_logged(admin, make_user):
    make_user("bob", "password two")
    bob = _user("bob")
    users.set_role(admin, bob.id, "admin")
    assert _user("bob").is_admin
    users.set_role(admin, bob.id, "user")
    assert not _user("bob").is_admin
    with pytest.raises(ValidationError):
        users.set_role(admin, bob.id, "root")
    with session_scope() as session:
        actions = session.exec(select(ActivityLog.action).where(ActivityLog.actor == "admin", ActivityLog.target == "bob")).all()
    assert actions == ["promote_user", "demote_user"]


def test_reset_password_returns_a_new_one_and_ends_sessions(admin, make_user):
    make_user("carol", "password three")
    _, token = auth.login("carol", "password three")
    password = users.reset_password(admin, _user("carol").id)
    assert auth.resolve_session(token) is None
    assert auth.authenticate("carol", password).username == "carol"
    with pytest.raises(Exception):
        auth.authenticate("carol", "password three")


def test_disabling_ends_sessions_and_enabling_restores_login(admin, make_user):
    make_user("dave", "password four")
    _, token = auth.login("dave", "password four")
    assert users.set_active(admin, _user("dave").id, False) is None  # no container: nothing to stop
    assert auth.resolve_session(token) is None
    users.set_active(admin, _user("dave").id, True)
    auth.authenticate("dave", "password four")


def test_create_user_generates_a_one_time_password(admin):
    created = users.admin_create_user(admin, "erin", "erin@example.com", "", "user")
    assert created.password and auth.authenticate("erin", created.password).role == "user"
    chosen = users.admin_create_user(admin, "fred", "fred@example.com", "fred's password", "admin")
    assert chosen.password is None and _user("fred").is_admin
    with pytest.raises(ValidationError):
        users.admin_create_user(admin, "gina", "gina@example.com", "", "superuser")


def test_limits_are_validated_and_saved(admin, make_user):
    make_user("hank", "password five")
    hank = _user("hank")
    message = users.set_limits(admin, hank.id, "256", "1.5")
    assert "next container" in message
    assert (_user("hank").mem_limit_mb, _user("hank").cpu_limit) == (256, 1.5)
    users.set_limits(admin, hank.id, "", "")
    assert (_user("hank").mem_limit_mb, _user("hank").cpu_limit) == (None, None)
    for mem, cpu in (("1", ""), ("lots", ""), ("", "999"), ("", "-1")):
        with pytest.raises(ValidationError):
            users.set_limits(admin, hank.id, mem, cpu)


def test_deleting_a_user_keeps_their_activity(admin, make_user):
    make_user("ivy", "password six")
    users.admin_delete_user(admin, _user("ivy").id)
    with session_scope() as session:
        assert session.exec(select(User).where(User.username == "ivy")).first() is None
        actions = session.exec(select(ActivityLog.action).where(ActivityLog.target == "ivy")).all()
    assert "signup" in actions and "delete_user" in actions
