"""User administration: the first admin, listing and account changes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import func, select

from saas_panel.config import get_settings
from saas_panel.db import session_scope
from saas_panel.models import Role, User
from saas_panel.services import activity, provisioning
from saas_panel.services.auth import CurrentUser, create_user, revoke_user_sessions
from saas_panel.errors import NotFound, PermissionDenied
from saas_panel.services.security import generate_password, hash_password
from saas_panel.services.validation import check_password

ADMIN_USERNAME = "admin"
ADMIN_EMAIL = "admin@localhost.localdomain"


@dataclass(frozen=True)
class AdminBootstrap:
    created: bool
    generated_password: str | None  # set only when we made one up; shown once


def ensure_admin(password: str | None = None) -> AdminBootstrap:
    """Create user `admin` if no admin exists yet. Never uses a built-in password."""
    with session_scope() as session:
        if session.exec(select(User.id).where(User.role == Role.ADMIN.value)).first() is not None:
            return AdminBootstrap(created=False, generated_password=None)
    password = password or get_settings().admin_password
    generated = None if password else generate_password()
    with session_scope() as session:
        create_user(session, ADMIN_USERNAME, ADMIN_EMAIL, password or generated, role=Role.ADMIN)
        activity.record("create_admin", actor=activity.SYSTEM_ACTOR, target=ADMIN_USERNAME, session=session)
    return AdminBootstrap(created=True, generated_password=generated)


def set_admin_password(password: str) -> None:
    """Set the password of user `admin`, creating it if needed (the CLI's create-admin)."""
    with session_scope() as session:
        user = session.exec(select(User).where(User.username == ADMIN_USERNAME)).first()
        if user is None:
            create_user(session, ADMIN_USERNAME, ADMIN_EMAIL, password, role=Role.ADMIN)
        else:
            user.password_hash = hash_password(check_password(password), get_settings().bcrypt_rounds)
            user.role = Role.ADMIN.value
            user.is_active = True
            revoke_user_sessions(session, user.id)
        activity.record("create_admin", actor=activity.SYSTEM_ACTOR, target=ADMIN_USERNAME, session=session)


def count_users() -> tuple[int, int]:
    """(total, active) users."""
    with session_scope() as session:
        total = session.exec(select(func.count()).select_from(User)).one()
        active = session.exec(select(func.count()).select_from(User).where(User.is_active)).one()
    return total, active


def set_active(admin: CurrentUser, user_id: int, active: bool, ip: str | None = None) -> None:
    """Enable or disable an account; disabling ends its sessions."""
    with session_scope() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("This user no longer exists.")
        if user.id == admin.id and not active:
            raise PermissionDenied("You cannot disable your own account.")
        user.is_active = active
        if not active:
            revoke_user_sessions(session, user.id)
        activity.record(
            "enable_user" if active else "disable_user",
            actor=admin.username,
            target=user.username,
            ip=ip,
            session=session,
        )


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    email: str
    role: str
    is_active: bool
    created_at: str


def list_users(limit: int = 50, offset: int = 0) -> list[UserRow]:
    with session_scope() as session:
        users = session.exec(select(User).order_by(User.username).offset(offset).limit(limit)).all()
    return [
        UserRow(u.id, u.username, u.email, u.role, u.is_active, u.created_at.strftime("%Y-%m-%d %H:%M"))
        for u in users
    ]


def delete_account(username: str, *, actor: str, ip: str | None = None) -> None:
    """Remove the user's container, then the user (sessions go with it; the audit trail stays)."""
    provisioning.deprovision(username, actor=actor, ip=ip)
    with session_scope() as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            raise NotFound("This user no longer exists.")
        revoke_user_sessions(session, user.id)
        session.delete(user)
        activity.record("delete_user", actor=actor, target=username, ip=ip, session=session)
