"""Every account has a unique, valid DNS host label: new usernames are labels, older ones got one."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from saas_panel.db import get_engine, session_scope
from saas_panel.errors import Conflict, ValidationError
from saas_panel.migrations import alembic_config
from saas_panel.models import User, utcnow
from saas_panel.services import auth
from saas_panel.services.host_labels import is_valid_label, label_for, user_for_label
from saas_panel.services.validation import normalize_username


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("a_b", "letters a-z, digits and '-'"),
        ("user_name", "letters a-z, digits and '-'"),
        ("a.b", "letters a-z, digits and '-'"),
        ("-ab", "cannot start or end with '-'"),
        ("ab-", "cannot start or end with '-'"),
        ("-" * 5, "cannot start or end with '-'"),
        ("xn--abc", "cannot start with 'xn--'"),
        ("XN--ABC", "cannot start with 'xn--'"),
        ("a" * 33, "at most 32"),
    ],
)
def test_usernames_that_are_not_host_labels_are_refused(username, message):
    with pytest.raises(ValidationError, match=message) as info:
        normalize_username(username)
    assert info.value.field == "username"


@pytest.mark.parametrize("username", ["abc", "a-b", "a--b", "0ab", "9-lives", "x" * 32, "a" + "-" * 30 + "z"])
def test_signups_get_their_username_as_host_label(db, username):
    user = auth.register(username, f"{username}@example.com", "long enough pw")
    assert label_for(username) == username
    assert user_for_label(username) == (user.id, username)


@pytest.mark.parametrize("text", ["a", "0", "a-b", "a--b", "x" * 63, "abc123"])
def test_valid_labels(text):
    assert is_valid_label(text)


@pytest.mark.parametrize("text", ["", "-a", "a-", "a_b", "Abc", "a.b", "a b", "x" * 64, "xn--abc", "é", None])
def test_invalid_labels(text):
    assert not is_valid_label(text)


def test_lookups_of_unknown_or_invalid_labels_find_nothing(db):
    auth.register("alice", "alice@example.com", "long enough pw")
    assert user_for_label("bob") is None and user_for_label("ALICE") is None and user_for_label("a_b") is None
    assert label_for("bob") is None


def test_the_database_keeps_labels_unique(make_user):
    make_user("ivy")
    with pytest.raises(IntegrityError):
        with session_scope() as session:
            session.add(User(username="ivy2", host_label="ivy", email="ivy2@example.com", password_hash="x"))


def test_a_signup_cannot_take_an_older_accounts_label(db):
    with session_scope() as session:
        session.add(User(username="bob_", host_label="bob", email="bob@example.com", password_hash="x"))
    with pytest.raises(Conflict, match="username is already taken"):
        auth.register("bob", "bob2@example.com", "long enough pw")


# Usernames from before the rule (each valid under the old one), in sign-up order, and the label
# each must get: '_' -> '-', no '-' at the ends, no other account's name or label, no platform name.
LEGACY_LABELS = {
    "admin": "admin",  # the platform's own account keeps its reserved name
    "a_b": "a-b-2",  # 'a-b' is the name of a later account, which keeps it
    "a-b": "a-b",
    "bob_": "bob",
    "_carol_x": "carol-x",
    "dave": "dave",
    "dave_": "dave-2",
    "_dave": "dave-3",
    "api_": "api-2",  # 'api' is reserved for the platform
    "___": "user",  # nothing usable left
    "xn__abc": "user-2",  # would be punycode
    "erin-": "erin",
}


def test_migration_gives_older_accounts_unique_valid_labels(db):
    config = alembic_config()
    command.downgrade(config, "base")
    command.upgrade(config, "0003")
    users = sa.table(
        "users", *(sa.column(name) for name in ("username", "email", "password_hash", "role", "is_active", "created_at"))
    )
    with get_engine().begin() as connection:
        connection.execute(
            users.insert(),
            [
                {"username": name, "email": f"user{n}@example.com", "password_hash": "x", "role": "user", "is_active": True, "created_at": utcnow()}
                for n, name in enumerate(LEGACY_LABELS)
            ],
        )
    command.upgrade(config, "head")

    with session_scope() as session:
        labels = {user.username: user.host_label for user in session.exec(select(User)).all()}
    assert labels == LEGACY_LABELS
    assert all(is_valid_label(label) for label in labels.values())
    assert user_for_label("a-b-2")[1] == "a_b" and label_for("_carol_x") == "carol-x"
    with pytest.raises(Conflict):  # a new account cannot take an older one's label
        auth.register("bob", "new-bob@example.com", "long enough pw")
    with pytest.raises(IntegrityError):  # and the column is now NOT NULL
        with session_scope() as session:
            session.add(User(username="frank", email="frank@example.com", password_hash="x"))
