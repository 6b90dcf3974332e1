"""User administration: the first admin, the admin console's user table and account changes.

Every change takes the acting admin (resolved from their session by the
caller) and writes an activity row with the admin as actor and the account as
target. An admin cannot disable, demote or delete themselves, and the last
active admin can never be removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, func, select

from saas_panel import faults
from saas_panel.config import get_settings
from saas_panel.db import session_scope
from saas_panel.errors import AuthenticationError, Conflict, DomainError, NotFound, PermissionDenied, ValidationError
from saas_panel.models import Container, ContainerState, Plan, Role, User, utcnow
from saas_panel.services import activity, auth, plans, provisioning, text_search
from saas_panel.services.auth import CurrentUser, create_user, revoke_user_sessions
from saas_panel.services.query import Page, count_of, fetch_page, is_set, page_number, per_page
from saas_panel.services.security import generate_password, hash_password
from saas_panel.services.validation import CPU_LIMIT_RANGE, MEM_LIMIT_RANGE_MB, check_number, check_password, normalize_email, normalize_username

ADMIN_USERNAME = "admin"
ADMIN_EMAIL = "admin@localhost.localdomain"
NO_CONTAINER = "none"  # container-state filter value: users without a container
USER_SORTS = {
    "username": User.username,
    "email": User.email,
    "role": User.role,
    "created_at": User.created_at,
    "last_login_at": User.last_login_at,
    "container_state": Container.state,
    "plan": Plan.name,
    "storage": User.storage_used_bytes,
}


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
        create_user(session, ADMIN_USERNAME, ADMIN_EMAIL, password or generated, role=Role.ADMIN, allow_reserved=True)
        activity.record(activity.Action.CREATE_ADMIN, actor=activity.SYSTEM_ACTOR, target=ADMIN_USERNAME, session=session)
    return AdminBootstrap(created=True, generated_password=generated)


def set_admin_password(password: str) -> None:
    """Set the password of user `admin`, creating it if needed (the CLI's create-admin)."""
    with session_scope() as session:
        user = session.exec(select(User).where(User.username == ADMIN_USERNAME)).first()
        if user is None:
            create_user(session, ADMIN_USERNAME, ADMIN_EMAIL, password, role=Role.ADMIN, allow_reserved=True)
        else:
            user.password_hash = hash_password(check_password(password), get_settings().bcrypt_rounds)
            user.role = Role.ADMIN.value
            user.is_active = True
            revoke_user_sessions(session, user.id)
        activity.record(activity.Action.CREATE_ADMIN, actor=activity.SYSTEM_ACTOR, target=ADMIN_USERNAME, session=session)


def count_users() -> tuple[int, int]:
    """(total, active) users."""
    with session_scope() as session:
        total = session.exec(select(func.count()).select_from(User)).one()
        active = session.exec(select(func.count()).select_from(User).where(User.is_active)).one()
    return total, active


# --- the user table -------------------------------------------------------


@dataclass(frozen=True)
class UserQuery:
    search: str = ""  # substring of username or email, case-insensitive
    role: str = ""  # "" | admin | user
    status: str = ""  # "" | active | disabled
    container_state: str = ""  # "" | a ContainerState value | "none"
    plan: str = ""  # "" | a plan's name (the default plan's includes the users without one)
    sort: str = "username"  # a key of USER_SORTS
    descending: bool = False
    page: int = 1
    per_page: int = 25


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    email: str
    role: str
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None
    container_state: str  # "none" without a container
    mem_limit_mb: int | None
    cpu_limit: float | None
    idle_exempt: bool
    plan: str  # the name of the plan they are on (the default one when none was chosen)
    storage_used_bytes: int | None  # /data as last measured; None: not yet
    storage_mb: int  # their plan's storage


def _with_container_and_plan(statement, default_plan_id: int, container: bool = True, plan: bool = True):
    """Each user's container (if any) and effective plan joined in (at most one row each: the
    count needs them only to filter on them)."""
    if container:
        statement = statement.outerjoin(Container, Container.user_id == User.id)
    if plan:
        statement = statement.outerjoin(Plan, Plan.id == func.coalesce(User.plan_id, default_plan_id))
    return statement


def _user_filters(statement, query: UserQuery):
    if query.search and query.search.strip():
        statement = statement.where(text_search.matching(text_search.USERS, User, query.search))
    if is_set(query.role):
        statement = statement.where(User.role == query.role)
    if query.status == "active":
        statement = statement.where(User.is_active)
    elif query.status == "disabled":
        statement = statement.where(~User.is_active)
    if query.container_state == NO_CONTAINER:
        statement = statement.where(Container.id.is_(None))
    elif is_set(query.container_state):
        statement = statement.where(Container.state == query.container_state)
    if is_set(query.plan):
        statement = statement.where(Plan.name == query.plan)
    return statement


def search_users(query: UserQuery) -> Page[UserRow]:
    """One page of users matching `query`, filtered, sorted and counted in SQL."""
    size, wanted = per_page(query.per_page), page_number(query.page)
    column = USER_SORTS.get(query.sort, User.username)
    order = [column.desc() if query.descending else column.asc(), User.id]
    with session_scope() as session:
        default_id = plans.default_plan(session).id
        statement = _user_filters(_with_container_and_plan(select(User, Container.state, Plan), default_id), query).order_by(*order)
        joined = _with_container_and_plan(select(User.id), default_id, is_set(query.container_state), is_set(query.plan))
        counted = count_of(_user_filters(joined, query))
        rows, total, page = fetch_page(session, statement, counted, wanted, size, id_column=User.id)
    return Page(rows=[_user_row(*row) for row in rows], total=total, page=page, per_page=size)


def _user_row(user: User, container_state: str | None, plan: Plan) -> UserRow:
    return UserRow(
        id=user.id,
        username=user.username,
        email=user.email,
        role=user.role,
        is_active=user.is_active,
        created_at=user.created_at,
        last_login_at=user.last_login_at,
        container_state=container_state or NO_CONTAINER,
        mem_limit_mb=user.mem_limit_mb,
        cpu_limit=user.cpu_limit,
        idle_exempt=user.idle_exempt,
        plan=plan.name,
        storage_used_bytes=user.storage_used_bytes,
        storage_mb=plan.storage_mb,
    )


def find_user(username: str) -> UserRow | None:
    with session_scope() as session:
        default_id = plans.default_plan(session).id
        found = session.exec(_with_container_and_plan(select(User, Container.state, Plan), default_id).where(User.username == username)).first()
        return _user_row(*found) if found else None


# --- account changes ------------------------------------------------------


def _target(session: Session, user_id: int) -> User:
    user = session.get(User, int(user_id))
    if user is None:
        raise NotFound("This user no longer exists.")
    return user


def _keep_an_admin(session: Session, user: User, verb: str) -> None:
    """Refuse a change that would leave no active admin.

    The active admins' rows are locked in id order (FOR UPDATE on PostgreSQL; SQLite's
    BEGIN IMMEDIATE already lets one writer in), so two admins removing each other at
    the same moment are served one after the other, and the second is refused.
    """
    if not user.is_admin:
        return
    admins = session.exec(
        select(User.id).where(User.role == Role.ADMIN.value, User.is_active).order_by(User.id).with_for_update()
    ).all()
    if not set(admins) - {user.id}:
        raise Conflict(f"You cannot {verb} the last administrator.")


def _not_self(admin: CurrentUser, user: User, verb: str) -> None:
    if user.id == admin.id:
        raise PermissionDenied(f"You cannot {verb} your own account.")


@dataclass(frozen=True)
class NewUser:
    username: str
    password: str | None  # the generated one-time password, or None when the admin chose one


def admin_create_user(
    admin: CurrentUser, username: str, email: str, password: str = "", role: str = "user", ip: str | None = None
) -> NewUser:
    """Create an account; without a password one is generated and returned once."""
    if role not in (Role.ADMIN.value, Role.USER.value):
        raise ValidationError("role", "Role must be admin or user.")
    generated = None if password else generate_password()
    with session_scope() as session:
        user = create_user(session, username, email, password or generated, role=Role(role))
        activity.record(activity.Action.CREATE_USER, actor=admin.username, target=user.username, ip=ip, details=f"role {role}", session=session)
    return NewUser(username=user.username, password=generated)


def _container_state(session: Session, user_id: int) -> str | None:
    return session.exec(select(Container.state).where(Container.user_id == user_id)).first()


def set_active(admin: CurrentUser, user_id: int, active: bool, ip: str | None = None) -> str | None:
    """Enable or disable an account. Disabling ends its sessions and stops its container.

    Returns a warning when the account changed but its container could not be stopped.
    """
    with session_scope() as session:
        user = _target(session, user_id)
        if active and user.deletion_started_at is not None:
            raise Conflict("This account is being deleted.")
        if not active:
            _not_self(admin, user, "disable")
            _keep_an_admin(session, user, "disable")
            revoke_user_sessions(session, user.id)
        user.is_active = bool(active)
        username = user.username
        state = _container_state(session, user.id)
        activity.record(activity.Action.ENABLE_USER if active else activity.Action.DISABLE_USER, actor=admin.username, target=username, ip=ip, session=session)
    if active or state not in (ContainerState.RUNNING.value, ContainerState.PROVISIONING.value):
        return None
    try:
        provisioning.control(username, "stop", actor=admin.username, ip=ip)
    except DomainError as exc:
        return f"The account is disabled, but its container could not be stopped: {exc}"
    return None


def set_role(admin: CurrentUser, user_id: int, role: str, ip: str | None = None) -> None:
    """Promote to admin or demote to user."""
    if role not in (Role.ADMIN.value, Role.USER.value):
        raise ValidationError("role", "Role must be admin or user.")
    with session_scope() as session:
        user = _target(session, user_id)
        if user.role == role:
            return
        if role == Role.USER.value:
            _not_self(admin, user, "demote")
            _keep_an_admin(session, user, "demote")
        user.role = role  # every handler reads the role from the database, so this applies at once
        activity.record(activity.Action.PROMOTE_USER if role == Role.ADMIN.value else activity.Action.DEMOTE_USER, actor=admin.username, target=user.username, ip=ip, session=session)


def set_idle_exempt(admin: CurrentUser, user_id: int, exempt: bool, ip: str | None = None) -> None:
    """Exempt an account from the idle stop (its container runs until stopped), or not."""
    with session_scope() as session:
        user = _target(session, user_id)
        user.idle_exempt = bool(exempt)
        details = "never stopped when idle" if exempt else "stopped when idle"
        activity.record(activity.Action.SET_IDLE_EXEMPT, actor=admin.username, target=user.username, ip=ip, details=details, session=session)


def reset_password(admin: CurrentUser, user_id: int, ip: str | None = None) -> str:
    """Give the account a new random password (returned once) and end its sessions."""
    password = generate_password()
    password_hash = hash_password(password, get_settings().bcrypt_rounds)  # before the write lock
    with session_scope() as session:
        user = _target(session, user_id)
        _not_self(admin, user, "reset the password of")  # it would end this very session
        user.password_hash = password_hash
        revoke_user_sessions(session, user.id)
        activity.record(activity.Action.RESET_PASSWORD, actor=admin.username, target=user.username, ip=ip, session=session)
    return password


def set_limits(admin: CurrentUser, user_id: int, mem_limit_mb, cpu_limit, ip: str | None = None) -> str:
    """Set per-user limits (blank = the default); applied to a live container at once when possible."""
    mem = check_number(mem_limit_mb, int, MEM_LIMIT_RANGE_MB, "Memory (MB)")
    cpu = check_number(cpu_limit, float, CPU_LIMIT_RANGE, "CPUs")
    with session_scope() as session:
        user = _target(session, user_id)
        user.mem_limit_mb, user.cpu_limit = mem, cpu
        username = user.username
        activity.record(activity.Action.SET_LIMITS, actor=admin.username, target=username, ip=ip, details=f"memory {mem or 'default'} MB, cpu {cpu or 'default'}", session=session)
    try:
        applied = provisioning.apply_limits(username)
    except DomainError as exc:
        return f"Limits saved; they apply when the container is next created ({exc})."
    return "Limits saved and applied to the container." if applied else "Limits saved; they apply to the next container."


def remove_data(admin: CurrentUser, user_id: int, ip: str | None = None) -> str:
    """Remove an account's container and its files in /data, keeping the account; returns what happened."""
    with session_scope() as session:
        username = _target(session, user_id).username
    if provisioning.remove_data(username, actor=admin.username, ip=ip):
        return f"The files of {username} were removed; their next container starts with an empty /data."
    return f"{username} had no stored files."


def admin_delete_user(admin: CurrentUser, user_id: int, ip: str | None = None) -> str:
    """Delete an account, its container and its files; the audit trail (usernames as text) stays."""
    with session_scope() as session:
        user = _target(session, user_id)
        _not_self(admin, user, "delete")
        _keep_an_admin(session, user, "delete")
        username = user.username
    delete_account(username, actor=admin.username, ip=ip)
    return username


def _by_name(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound("This user no longer exists.")
    return user


def delete_own_account(token: str | None, password: str, ip: str | None = None) -> None:
    """A user deleting their own account: the current password is asked again, and the last
    active administrator cannot delete itself."""
    user = auth.resolve_session(token)
    if user is None:
        raise AuthenticationError("Your session has ended; log in again.")
    try:
        auth.authenticate(user.username, password, ip)  # throttled like a login
    except AuthenticationError:
        raise AuthenticationError("The password is not right; your account was not deleted.") from None
    delete_account(user.username, actor=user.username, ip=ip)


def delete_account(username: str, *, actor: str, ip: str | None = None) -> None:
    """Remove the user's container and files, then the user (sessions go with it; the audit trail stays).

    The account is first marked (disabled, sessions ended, `deletion_started_at` set) in the
    transaction that checks it is not the last administrator: from then on nobody can use it,
    and a deletion cut short by a crash is finished at the next start (services/recovery.py).
    """
    with session_scope() as session:
        user = _by_name(session, username)
        _keep_an_admin(session, user, "delete")
        user.is_active = False
        user.deletion_started_at = user.deletion_started_at or utcnow()
        revoke_user_sessions(session, user.id)
    faults.reached("delete.marked")
    finish_deletion(username, actor=actor, ip=ip)


def finish_deletion(username: str, *, actor: str, ip: str | None = None) -> None:
    """The steps of a marked account's deletion; each does nothing when already done."""
    provisioning.remove_data(username, actor=actor, ip=ip)
    faults.reached("delete.data_removed")
    with session_scope() as session:
        user = _by_name(session, username)
        activity.record(activity.Action.DELETE_USER, actor=actor, target=username, ip=ip, session=session)  # ids known while the row is there
        session.delete(user)


def half_deleted() -> list[str]:
    """The accounts whose deletion started and did not finish."""
    with session_scope() as session:
        return list(session.exec(select(User.username).where(User.deletion_started_at.is_not(None))).all())


# --- the API's idempotent provisioning ----------------------------------------


@dataclass(frozen=True)
class ProvisionedAccount:
    created: bool  # this call created the user or their container
    container_id: int
    container: provisioning.ContainerView


def provision_account(admin: CurrentUser, username: str, email: str, ip: str | None = None) -> ProvisionedAccount:
    """Make sure `username` exists (with `email`) and has a running container.

    Calling it again with the same name and email changes nothing; the same
    name with another email is a conflict, not a silent takeover.
    """
    username, email = normalize_username(username), normalize_email(email)
    existing = _account(username)
    if existing is None:
        try:
            admin_create_user(admin, username, email, ip=ip)  # a random password: the user gets a reset
        except Conflict:
            existing = _account(username)  # a concurrent call created it: same email means the same request
            if existing is None:
                raise
    if existing is not None:
        if existing[0] != email:
            raise Conflict("This username belongs to an account with another email.")
        if not existing[1]:
            raise Conflict("This account is disabled.")
    had_container = existing is not None and existing[2]
    view = provisioning.provision(username, actor=admin.username, ip=ip)
    return ProvisionedAccount(
        created=not had_container,
        container_id=provisioning.container_row_id(username),
        container=view,
    )


def _account(username: str) -> tuple[str, bool, bool] | None:
    """(email, is_active, has a container row) of `username`, or None."""
    with session_scope() as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is None:
            return None
        return user.email, user.is_active, _container_state(session, user.id) is not None
