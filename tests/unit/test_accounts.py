"""Signup rules, password hashing and the first admin."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from saas_panel.db import session_scope
from saas_panel.models import ActivityLog, Role, User
from saas_panel.services import auth, users
from saas_panel.errors import AuthenticationError, Conflict, ValidationError
from saas_panel.services.security import bcrypt_cost


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("ab", "at least 3"),
        ("a" * 33, "at most 32"),
        ("x" * 200, "at most 32"),
        ("élodie", "letters a-z"),
        ("bob smith", "letters a-z"),
        ("<script>", "letters a-z"),
        ("ａｌｉｃｅ", "letters a-z"),
    ],
)
def test_username_rules_have_clear_messages(db, username, message):
    with pytest.raises(ValidationError, match=message) as info:
        auth.register(username, "x@example.com", "long enough pw")
    assert info.value.field == "username"


@pytest.mark.parametrize("email", ["", "no-at-sign", "a@b", "a b@example.com", "<x>@example.com", "a@" + "x" * 250 + ".com"])
def test_invalid_email_is_refused(db, email):
    with pytest.raises(ValidationError) as info:
        auth.register("carol", email, "long enough pw")
    assert info.value.field == "email"


def test_password_rules(db):
    with pytest.raises(ValidationError, match="at least 8"):
        auth.register("dave", "dave@example.com", "short")
    with pytest.raises(ValidationError, match="at most 72 bytes"):
        auth.register("dave", "dave@example.com", "a" * 73)
    # 24 three-byte characters = 72 bytes: accepted; 25 = 75 bytes: refused with a message, not a crash.
    auth.register("dave", "dave@example.com", "€" * 24)
    with pytest.raises(ValidationError, match="at most 72 bytes"):
        auth.register("erin", "erin@example.com", "€" * 25)


def test_unicode_password_round_trips(db):
    password = "mot de passe été 🔑"
    user = auth.register("frank", "frank@example.com", password)
    assert auth.authenticate("frank", password).id == user.id
    with pytest.raises(AuthenticationError):
        auth.authenticate("frank", "mot de passe ete 🔑")


def test_hash_uses_bcrypt_cost_at_least_12(make_user):
    make_user("gina", "a fine password")
    with session_scope() as session:
        stored = session.exec(select(User).where(User.username == "gina")).one()
    assert stored.password_hash.startswith("$2b$")
    assert bcrypt_cost(stored.password_hash) >= 12
    assert "a fine password" not in stored.password_hash


def test_taken_username_and_email(make_user):
    make_user("henry")
    with pytest.raises(Conflict, match="username is already taken"):
        auth.register("henry", "other@example.com", "password123")
    with pytest.raises(Conflict, match="email already exists"):
        auth.register("henry2", "henry@example.com", "password123")
    with session_scope() as session:
        assert len(session.exec(select(User)).all()) == 1


def test_database_enforces_unique_username(make_user):
    make_user("ivy")
    with pytest.raises(IntegrityError):
        with session_scope() as session:
            session.add(User(username="ivy", host_label="ivy2", email="ivy2@example.com", password_hash="x"))


def test_same_error_for_unknown_user_and_wrong_password(make_user):
    make_user("jack", "the right password")
    with pytest.raises(AuthenticationError) as unknown:
        auth.authenticate("nobody", "the right password")
    with pytest.raises(AuthenticationError) as wrong:
        auth.authenticate("jack", "the wrong password")
    assert str(unknown.value) == str(wrong.value) == auth.INVALID_CREDENTIALS


def test_logins_are_logged_with_outcome(make_user):
    make_user("kate", "the right password")
    auth.login("kate", "the right password", ip="10.0.0.1")
    with pytest.raises(AuthenticationError):
        auth.login("kate", "nope nope nope", ip="10.0.0.2")
    with session_scope() as session:
        rows = session.exec(select(ActivityLog).where(ActivityLog.action.in_(["signup", "login"])).order_by(ActivityLog.id)).all()
    assert [(r.action, r.actor, r.outcome, r.ip) for r in rows] == [
        ("signup", "kate", "success", None),
        ("login", "kate", "success", "10.0.0.1"),
        ("login", "system", "failure", "10.0.0.2"),  # nobody authenticated: the system writes it
    ]


def test_first_admin_gets_a_generated_password_once(db):
    result = users.ensure_admin()
    assert result.created and result.generated_password and len(result.generated_password) >= 16
    assert auth.authenticate("admin", result.generated_password).role == Role.ADMIN.value
    again = users.ensure_admin()
    assert not again.created and again.generated_password is None


def test_first_admin_from_environment(db, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_ADMIN_PASSWORD", "operator chosen pw")
    result = users.ensure_admin()
    assert result.created and result.generated_password is None
    assert auth.authenticate("admin", "operator chosen pw").is_admin


def test_seed_default_admin_password_does_not_work(db):
    users.ensure_admin()
    with pytest.raises(AuthenticationError):
        auth.authenticate("admin", "admin123")


def test_create_admin_resets_password_and_sessions(db):
    users.ensure_admin("first password")
    _, token = auth.login("admin", "first password")
    users.set_admin_password("second password")
    assert auth.resolve_session(token) is None
    assert auth.authenticate("admin", "second password").is_admin


@pytest.mark.parametrize("name", ["system", "anonymous", "admin", "root", "api", "www", "apps", "Admin", " ROOT "])
def test_reserved_names_are_refused(db, name):
    with pytest.raises(ValidationError, match="reserved") as info:
        auth.register(name, "someone@example.com", "long enough pw")
    assert info.value.field == "username"


def test_usernames_and_emails_are_unique_whatever_their_case(make_user):
    first = auth.register("Lena", "Lena.Smith@Example.COM", "long enough pw")
    assert first.username == "lena" and first.email == "lena.smith@example.com"
    with pytest.raises(Conflict, match="username"):
        auth.register("LENA", "other@example.com", "long enough pw")
    with pytest.raises(Conflict, match="email"):
        auth.register("lena2", "LENA.SMITH@example.com", "long enough pw")
    assert auth.authenticate("LeNa", "long enough pw").id == first.id


BAD_TEXT = ["nul\x00byte", "bell\x07", "esc\x1b[31m", "lone \ud800 surrogate", "rtl\u202eoverride", "zero\u200bwidth"]


@pytest.mark.parametrize("bad", BAD_TEXT)
@pytest.mark.parametrize("field", ["username", "email", "password"])
def test_control_and_malformed_characters_are_a_form_error_in_every_field(db, field, bad):
    values = {"username": "marta", "email": "marta@example.com", "password": "long enough pw"}
    values[field] = bad if field != "email" else f"{bad}@example.com"
    with pytest.raises(ValidationError) as info:
        auth.register(values["username"], values["email"], values["password"])
    assert info.value.field == field and "not allowed" in str(info.value)
    with session_scope() as session:
        assert session.exec(select(User)).all() == []


@pytest.mark.parametrize("bad", BAD_TEXT)
def test_control_characters_at_login_are_a_form_error(make_user, bad):
    make_user("nina", "long enough pw")
    with pytest.raises(ValidationError):
        auth.authenticate(bad, "long enough pw")
    with pytest.raises(ValidationError):
        auth.authenticate("nina", f"long {bad} pw")


def test_two_hundred_character_and_unicode_input_is_a_clear_error(db):
    with pytest.raises(ValidationError, match="at most 32"):
        auth.register("ü" * 200, "x@example.com", "long enough pw")
    with pytest.raises(ValidationError):
        auth.register("olga", "ü" * 200 + "@example.com", "long enough pw")


def test_an_opened_account_is_unusable_until_completed(db):
    opened = auth.open_account("olive", "olive@example.com", "olive password")
    with pytest.raises(AuthenticationError):
        auth.authenticate("olive", "olive password")
    with pytest.raises(AuthenticationError):
        auth.authenticate("olive", auth.PASSWORD_NOT_SET)
    assert users.half_deleted() == ["olive"]  # what recovery finishes if the process dies now

    completed = auth.complete_account("olive", "olive password")

    assert completed.id == opened.id and users.half_deleted() == []
    assert auth.authenticate("olive", "olive password").username == "olive"
    with pytest.raises(Conflict):
        auth.complete_account("olive", "another password")  # never a second time
    assert auth.authenticate("olive", "olive password").username == "olive"


def test_opening_an_account_checks_everything_register_does(make_user):
    make_user("taken", "taken password")
    with pytest.raises(ValidationError):
        auth.open_account("paula", "paula@example.com", "short")
    with pytest.raises(Conflict):
        auth.open_account("taken", "other@example.com", "a good password")
    assert users.find_user("paula") is None


def test_recovery_deletes_an_account_whose_signup_never_completed(db):
    from saas_panel.services import provisioning, recovery

    auth.open_account("quinn", "quinn@example.com", "quinn password")
    provisioning.provision("quinn")  # the app started while the password was being hashed; then the process died

    report = recovery.recover()

    assert report.deleted == ["quinn"] and users.find_user("quinn") is None
    assert provisioning.container_row_id("quinn") is None


def test_a_signup_that_cannot_complete_is_deleted_with_its_app(db):
    import asyncio

    from saas_panel.services import provisioning
    from saas_panel.state import background

    auth.open_account("rita", "rita@example.com", "rita password")

    async def scenario() -> None:
        background.provision_in_background("rita", actor="rita")  # under way when the completion fails
        await background.abandon_signup("rita")

    asyncio.run(scenario())
    assert users.find_user("rita") is None and provisioning.container_row_id("rita") is None
