"""Input rules for accounts, each with its own message."""

from __future__ import annotations

import re

from saas_panel.errors import ValidationError
from saas_panel.services.security import BCRYPT_MAX_BYTES

USERNAME_RE = re.compile(r"^[a-z0-9_-]{3,32}$")
EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
PASSWORD_MIN_CHARS = 8
EMAIL_MAX_CHARS = 254


def normalize_username(raw: str) -> str:
    username = (raw or "").strip()
    if len(username) < 3:
        raise ValidationError("username", "Username must be at least 3 characters.")
    if len(username) > 32:
        raise ValidationError("username", "Username must be at most 32 characters.")
    if not USERNAME_RE.fullmatch(username):
        raise ValidationError(
            "username", "Username may only contain lowercase letters, digits, '-' and '_'."
        )
    return username


def normalize_email(raw: str) -> str:
    email = (raw or "").strip()
    if not email:
        raise ValidationError("email", "Email is required.")
    if len(email) > EMAIL_MAX_CHARS or not EMAIL_RE.fullmatch(email):
        raise ValidationError("email", "Enter a valid email address, like name@example.com.")
    local, domain = email.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def check_password(password: str) -> str:
    if len(password or "") < PASSWORD_MIN_CHARS:
        raise ValidationError("password", f"Password must be at least {PASSWORD_MIN_CHARS} characters.")
    if len(password.encode("utf-8")) > BCRYPT_MAX_BYTES:
        raise ValidationError(
            "password",
            f"Password must be at most {BCRYPT_MAX_BYTES} bytes (accented letters and emoji count as several).",
        )
    return password
