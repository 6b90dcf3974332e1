"""Password hashing and opaque token helpers."""

from __future__ import annotations

import hashlib
import secrets

import bcrypt

BCRYPT_MAX_BYTES = 72
SESSION_TOKEN_BYTES = 32  # 256 bits


def hash_password(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    encoded = password.encode("utf-8")
    if len(encoded) > BCRYPT_MAX_BYTES:
        return False
    try:
        return bcrypt.checkpw(encoded, password_hash.encode("ascii"))
    except ValueError:
        return False


def bcrypt_cost(password_hash: str) -> int:
    return int(password_hash.split("$")[2])


def new_token() -> str:
    return secrets.token_urlsafe(SESSION_TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def generate_password() -> str:
    return secrets.token_urlsafe(15)
