"""Input rules for accounts, each with its own message."""

from __future__ import annotations

import re
import unicodedata

from saas_panel.errors import ValidationError
from saas_panel.services.security import BCRYPT_MAX_BYTES

# A username is also its owner's host label (RFC 1123): no '_', no '-' at either end.
USERNAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,30}[a-z0-9])$")
EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
PUNYCODE_PREFIX = "xn--"  # an IDN label: browsers show it as another, Unicode name
MEM_LIMIT_RANGE_MB = (32, 65536)
CPU_LIMIT_RANGE = (0.05, 64.0)
PASSWORD_MIN_CHARS = 8
EMAIL_MAX_CHARS = 254
# Names the platform itself uses as an actor, a host label or a route: nobody may sign up as them.
RESERVED_USERNAMES = frozenset({
    "system", "anonymous", "admin", "administrator", "root", "api", "www", "apps", "app", "panel",
    "localhost", "mail", "static", "assets", "login", "logout", "signup", "dashboard", "docs",
    "support", "security", "status", "help", "caddy", "proxy", "edge", "auth", "null", "none",
})


def check_text(field: str, label: str, raw: object) -> str:
    """`raw` as a string with no control, format or unpaired surrogate characters.

    PostgreSQL refuses NUL in text and UTF-8 has no lone surrogates: refusing them here
    gives a form error on every database instead of a server error on one.
    """
    text = raw if isinstance(raw, str) else ("" if raw is None else str(raw))
    if any(unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn") for char in text):
        raise ValidationError(field, f"{label} contains characters that are not allowed (control or invalid characters).")
    return text


def normalize_username(raw: str, *, allow_reserved: bool = False) -> str:
    """Usernames are compared and stored in lowercase: "Alice" and "alice" are one account."""
    username = check_text("username", "Username", raw).strip().lower()
    if len(username) < 3:
        raise ValidationError("username", "Username must be at least 3 characters.")
    if len(username) > 32:
        raise ValidationError("username", "Username must be at most 32 characters.")
    if not USERNAME_RE.fullmatch(username):
        raise ValidationError(
            "username", "Username may only contain letters a-z, digits and '-', and cannot start or end with '-'."
        )
    if username.startswith(PUNYCODE_PREFIX):
        raise ValidationError("username", f"Username cannot start with '{PUNYCODE_PREFIX}'.")
    if username in RESERVED_USERNAMES and not allow_reserved:
        raise ValidationError("username", f"The name '{username}' is reserved; choose another.")
    return username


def normalize_email(raw: str) -> str:
    """Emails are stored in lowercase, so that one address cannot hold two accounts."""
    email = check_text("email", "Email", raw).strip().lower()
    if not email:
        raise ValidationError("email", "Email is required.")
    if len(email) > EMAIL_MAX_CHARS or not EMAIL_RE.fullmatch(email):
        raise ValidationError("email", "Enter a valid email address, like name@example.com.")
    return email


def check_password(password: str) -> str:
    password = check_text("password", "Password", password)
    if len(password) < PASSWORD_MIN_CHARS:
        raise ValidationError("password", f"Password must be at least {PASSWORD_MIN_CHARS} characters.")
    if len(password.encode("utf-8")) > BCRYPT_MAX_BYTES:
        raise ValidationError(
            "password",
            f"Password must be at most {BCRYPT_MAX_BYTES} bytes (accented letters and emoji count as several).",
        )
    return password


def check_number(raw, kind: type, bounds: tuple, label: str, field: str | None = None):
    """`raw` (a form's text or a number) as `kind` within `bounds`; None when left blank.
    An error names `field` (the form's or the API's name for it), or the label without one."""
    if raw in (None, ""):
        return None
    try:
        value = kind(raw)
    except (TypeError, ValueError, OverflowError):
        raise ValidationError(field or label, f"{label} must be a number.") from None
    if not bounds[0] <= value <= bounds[1]:
        raise ValidationError(field or label, f"{label} must be between {bounds[0]:g} and {bounds[1]:g}.")
    return value
