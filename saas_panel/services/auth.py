"""Accounts and server-side sessions.

A session token is 256 random bits handed to the browser once; the database
keeps only its SHA-256. Every request resolves the token here, so the role
always comes from the database, never from the client.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, delete, select

from saas_panel.config import get_settings
from saas_panel.db import session_scope
from saas_panel.models import Outcome, Role, User, UserSession, utcnow
from saas_panel.services import activity, client_ip, counters, throttle
from saas_panel.errors import AuthenticationError, Conflict, PermissionDenied, Throttled
from saas_panel.services.security import hash_password, hash_token, new_token, verify_password
from saas_panel.services.validation import check_password, check_text, normalize_email, normalize_username

INVALID_CREDENTIALS = "Invalid username or password."
SIGNUP_CLOSED = "Sign-up is closed on this panel: ask an administrator for an account."
LAST_SEEN_WRITE_INTERVAL = timedelta(seconds=60)



@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Verifying against this keeps an unknown username as slow as a wrong password."""
    return hash_password("timing-equaliser", rounds=get_settings().bcrypt_rounds)


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    email: str
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN.value


def _as_current(user: User) -> CurrentUser:
    return CurrentUser(id=user.id, username=user.username, email=user.email, role=user.role)


# What an opened account holds until `complete_account` stores its password: not a bcrypt hash,
# so no password matches it.
PASSWORD_NOT_SET = "!"


def create_user(
    session: Session, username: str, email: str, password: str, role: Role = Role.USER, *, allow_reserved: bool = False,
    hash_later: bool = False,
) -> User:
    """Validate and insert a user in `session` (flushed, not committed).

    The password is hashed before the first statement, so the slow bcrypt work
    never runs while the transaction holds SQLite's write lock. Only the platform
    itself (the first admin) may take a reserved name. `hash_later`: the password is
    checked but the account is only opened (see `open_account`).
    """
    username = normalize_username(username, allow_reserved=allow_reserved)
    email = normalize_email(email)
    password = check_password(password)
    password_hash = PASSWORD_NOT_SET if hash_later else hash_password(password, get_settings().bcrypt_rounds)
    taken = (User.username == username) | (User.host_label == username)
    if session.exec(select(User.id).where(taken)).first() is not None:
        raise Conflict("This username is already taken.")
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        raise Conflict("An account with this email already exists.")
    user = User(username=username, host_label=username, email=email, password_hash=password_hash, role=role.value)
    if hash_later:
        user.is_active, user.deletion_started_at = False, utcnow()
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent signup won the race
        raise Conflict("This username or email is already taken.") from exc
    return user


REFUSAL_LOG_WINDOW_S = 60


def _login_limits(name: str, ip: str | None) -> list[throttle.Limit]:
    settings = get_settings()
    limits = [throttle.Limit(f"login:user:{name}", settings.login_account_limit, settings.login_window_seconds)]
    if ip:
        key = client_ip.throttle_key(ip)
        limits.append(throttle.Limit(f"login:ip:{key}", settings.login_ip_limit, settings.login_window_seconds))
    return limits


def _signup_limits(ip: str | None) -> list[throttle.Limit]:
    settings = get_settings()
    limits = [throttle.Limit("signup:global", settings.signup_global_limit, settings.signup_global_window_seconds)]
    if ip:
        key = client_ip.throttle_key(ip)
        limits.append(throttle.Limit(f"signup:ip:{key}", settings.signup_ip_limit, settings.signup_window_seconds))
    return limits


def record_refusal(
    action: activity.Action,
    ip: str | None,
    reason: str,
    *,
    details: str | None = None,
    target: str | None = None,
    outcome: Outcome = Outcome.FAILURE,
) -> None:
    """Log an unauthenticated attempt that was refused, as the system, at most once a minute per
    client, action and reason: a client without an account cannot grow the log at will."""
    if throttle.once(f"log:{action.value}:{client_ip.throttle_key(ip)}:{reason}", REFUSAL_LOG_WINDOW_S):
        activity.record(action, actor=activity.SYSTEM_ACTOR, target=target, ip=ip, outcome=outcome, details=details or reason)


def signup_open() -> bool:
    return get_settings().signup_mode == "open"


def register(username: str, email: str, password: str, ip: str | None = None) -> CurrentUser:
    return _register(username, email, password, ip, hash_later=False)


def open_account(username: str, email: str, password: str, ip: str | None = None) -> CurrentUser:
    """The first half of a signup that provisions the app while the password is hashed (bcrypt
    is about as slow as starting a container): the account is checked and stored, but disabled
    and marked as being deleted until `complete_account`. Nobody can use it meanwhile, and if the
    process dies in between, recovery deletes it with its app (services/recovery.py)."""
    return _register(username, email, password, ip, hash_later=True)


def complete_account(username: str, password: str) -> CurrentUser:
    """The second half: hash and store the password of an account `open_account` opened."""
    password_hash = hash_password(check_password(password), get_settings().bcrypt_rounds)
    with session_scope() as session:
        user = session.exec(select(User).where(User.username == username, User.password_hash == PASSWORD_NOT_SET)).first()
        if user is None:
            raise Conflict("This account could not be created; please try again.")
        user.password_hash, user.is_active, user.deletion_started_at = password_hash, True, None
        return _as_current(user)


def _register(username: str, email: str, password: str, ip: str | None, *, hash_later: bool) -> CurrentUser:
    if not signup_open():
        raise PermissionDenied(SIGNUP_CLOSED)
    try:
        throttle.hit(*_signup_limits(ip))  # before bcrypt: refused attempts cost no hashing
    except Throttled:
        record_refusal(activity.Action.SIGNUP, ip, "throttled")
        raise
    try:
        with session_scope() as session:
            user = create_user(session, username, email, password, hash_later=hash_later)
            activity.record(activity.Action.SIGNUP, actor=user.username, target=user.username, ip=ip, session=session)
            return _as_current(user)
    except Conflict as exc:
        record_refusal(activity.Action.SIGNUP, ip, "conflict", details=str(exc))
        raise


def authenticate(username: str, password: str, ip: str | None = None) -> CurrentUser:
    """Return the user for valid credentials; the same error for every failure."""
    name = check_text("username", "Username", username).strip().lower()[:64]
    password = check_text("password", "Password", password)
    try:
        throttle.hit(*_login_limits(name, ip))  # before bcrypt: refused attempts cost no hashing
    except Throttled:
        record_refusal(activity.Action.LOGIN, ip, "throttled", target=name)
        raise
    with session_scope() as session:
        user = session.exec(select(User).where(User.username == name)).first()
    valid = verify_password(password or "", user.password_hash if user else _dummy_hash())
    if user is None or not valid or not user.is_active:
        reason = "unknown user" if user is None else ("disabled" if valid else "wrong password")
        # Failures against a real account are each logged (its owner's timeline shows them);
        # unknown names only as bounded refusals.
        counters.add(counters.LOGIN_FAILURES)
        if user is None:
            record_refusal(activity.Action.LOGIN, ip, reason, details=f"unknown user: {name}")
        else:
            activity.record(activity.Action.LOGIN, actor=activity.SYSTEM_ACTOR, target=user.username, ip=ip, outcome=Outcome.FAILURE, details=reason)
        raise AuthenticationError(INVALID_CREDENTIALS)
    throttle.clear(f"login:user:{name}")  # the owner got in: their own earlier typos stop counting
    return _as_current(user)


def start_session(user: CurrentUser, ip: str | None = None, previous_token: str | None = None) -> str:
    """Open a new session (revoking `previous_token`); return the raw token, shown only once."""
    settings = get_settings()
    token = new_token()
    now = utcnow()
    with session_scope() as session:
        if previous_token:
            session.exec(delete(UserSession).where(UserSession.token_hash == hash_token(previous_token)))
        session.add(
            UserSession(
                token_hash=hash_token(token),
                user_id=user.id,
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(seconds=settings.session_max_seconds),
                ip=ip,
            )
        )
        db_user = session.get(User, user.id)
        db_user.last_login_at = now
        activity.record(activity.Action.LOGIN, actor=user.username, target=user.username, ip=ip, session=session)
    return token


def login(username: str, password: str, ip: str | None = None, previous_token: str | None = None) -> tuple[CurrentUser, str]:
    user = authenticate(username, password, ip)
    return user, start_session(user, ip, previous_token)


def change_password(token: str | None, current_password: str, new_password: str, ip: str | None = None) -> str:
    """Set a new password for the session's user. Every session of theirs ends; the raw token
    of a fresh session for this browser is returned."""
    user = resolve_session(token)
    if user is None:
        raise AuthenticationError("Your session has ended; log in again.")
    try:
        authenticate(user.username, current_password, ip)  # throttled like a login
    except AuthenticationError:
        raise AuthenticationError("The current password is not right.") from None
    new_hash = hash_password(check_password(new_password), get_settings().bcrypt_rounds)
    with session_scope() as session:
        session.get(User, user.id).password_hash = new_hash
        revoke_user_sessions(session, user.id)
        activity.record(activity.Action.CHANGE_PASSWORD, actor=user.username, target=user.username, ip=ip, session=session)
    return start_session(user, ip)


def session_alive(user_session: UserSession, user: User, now) -> bool:
    """Within its absolute and idle expiry, for an account still active."""
    idle_limit = timedelta(seconds=get_settings().session_idle_seconds)
    return user_session.expires_at > now and user_session.last_seen_at + idle_limit > now and user.is_active


def resolve_session(token: str | None) -> CurrentUser | None:
    """The user behind a live session token, or None if it is unknown, expired, idle or disabled."""
    if not token:
        return None
    now = utcnow()
    with session_scope() as session:
        row = session.exec(
            select(UserSession, User)
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.token_hash == hash_token(token))
        ).first()
        if row is None:
            return None
        user_session, user = row
        if not session_alive(user_session, user, now):
            session.delete(user_session)
            return None
        if now - user_session.last_seen_at >= LAST_SEEN_WRITE_INTERVAL:
            user_session.last_seen_at = now
        return _as_current(user)


def logout(token: str | None, ip: str | None = None) -> None:
    if not token:
        return
    user = resolve_session(token)
    with session_scope() as session:
        session.exec(delete(UserSession).where(UserSession.token_hash == hash_token(token)))
        if user is not None:
            activity.record(activity.Action.LOGOUT, actor=user.username, target=user.username, ip=ip, session=session)


def purge_expired_sessions(now=None) -> int:
    """Delete sessions past their absolute or idle expiry; returns how many went."""
    now = now or utcnow()
    idle_since = now - timedelta(seconds=get_settings().session_idle_seconds)
    with session_scope() as session:
        expired = (UserSession.expires_at <= now) | (UserSession.last_seen_at <= idle_since)
        return session.exec(delete(UserSession).where(expired)).rowcount or 0


def revoke_user_sessions(session: Session, user_id: int) -> None:
    session.exec(delete(UserSession).where(UserSession.user_id == user_id))


def require_admin(token: str | None, action: activity.Action | str, ip: str | None = None) -> CurrentUser:
    """The admin behind `token`; otherwise the refusal is logged and PermissionDenied raised."""
    user = resolve_session(token)
    if user is None:
        record_refusal(activity.Action(action), ip, "no session; admin role required", outcome=Outcome.DENIED)
        raise PermissionDenied("You need to be an administrator to do this.")
    if not user.is_admin:
        # Each refused action once a minute per account: a user cannot flood the log either.
        if throttle.once(f"log:denied:{user.id}:{activity.Action(action).value}", REFUSAL_LOG_WINDOW_S):
            activity.record(action, actor=user.username, ip=ip, outcome=Outcome.DENIED, details="admin role required")
        raise PermissionDenied("You need to be an administrator to do this.")
    return user
