"""A user deleting their own account, and the last administrator, who can never remove itself."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import select

from saas_panel.db import session_scope
from saas_panel.errors import AuthenticationError, Conflict, PermissionDenied
from saas_panel.models import Role, User
from saas_panel.services import auth, users


def _user(name: str) -> User | None:
    with session_scope() as session:
        return session.exec(select(User).where(User.username == name)).first()


@pytest.fixture
def admin(db):
    users.ensure_admin("admin password")
    return auth.login("admin", "admin password")  # (user, session token)


def test_deleting_your_own_account_asks_for_the_password(make_user):
    make_user("alice", "password one")  # no container row: deleting it never reaches the engine
    _, token = auth.login("alice", "password one")
    with pytest.raises(AuthenticationError, match="not deleted"):
        users.delete_own_account(token, "wrong password")
    assert _user("alice") is not None and auth.resolve_session(token).username == "alice"
    users.delete_own_account(token, "password one")
    assert _user("alice") is None and auth.resolve_session(token) is None


def test_the_last_active_admin_cannot_delete_itself(admin, make_user):
    _, token = admin
    make_user("bob")
    bob = _user("bob")
    users.set_role(admin[0], bob.id, Role.ADMIN.value)
    users.set_active(admin[0], bob.id, False)  # a disabled admin does not count
    with pytest.raises(Conflict, match="last administrator"):
        users.delete_own_account(token, "admin password")
    assert _user("admin").is_admin and auth.resolve_session(token) is not None


def test_an_admin_never_disables_or_demotes_itself(admin, make_user):
    me, _ = admin
    for second_admin in (False, True):
        if second_admin:
            make_user("bob")
            users.set_role(me, _user("bob").id, Role.ADMIN.value)
        with pytest.raises((PermissionDenied, Conflict)):
            users.set_active(me, me.id, False)
        with pytest.raises((PermissionDenied, Conflict)):
            users.set_role(me, me.id, Role.USER.value)
        assert _user("admin").is_admin and _user("admin").is_active


def test_two_admins_deleting_themselves_at_once_leave_one(admin, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_BCRYPT_ROUNDS", "4")
    first_admin, _ = admin
    second = users.admin_create_user(first_admin, "second", "second@example.com", "second password", role="admin")
    tokens = {"admin": ("admin password", auth.login("admin", "admin password")[1]),
              second.username: ("second password", auth.login(second.username, "second password")[1])}
    barrier = threading.Barrier(2)

    def delete_self(name):
        password, token = tokens[name]
        barrier.wait()
        try:
            users.delete_own_account(token, password)
            return "deleted"
        except Conflict:
            return "refused"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(delete_self, tokens))
    assert outcomes == ["deleted", "refused"]
    with session_scope() as session:
        assert len(session.exec(select(User).where(User.role == Role.ADMIN.value, User.is_active)).all()) == 1
