"""The server's own secret: generated once, kept outside the database, shared by every worker.

It keys values that must be unguessable but stable across workers and restarts
(the live rooms' link tokens, the signed tickets and cookies of `sign`). `SAAS_PANEL_SECRET_KEY` sets it directly (for
deployments whose workers share no file system); otherwise it lives in
`SAAS_PANEL_SECRET_FILE` (mode 0600), created on first use.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from functools import lru_cache
from pathlib import Path

from saas_panel.config import get_settings

SECRET_BYTES = 32
READ_RETRIES = 50


def _create(path: Path) -> None:
    """Write a new secret atomically: a worker racing us sees the whole file or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(descriptor, secrets.token_hex(SECRET_BYTES).encode())
    finally:
        os.close(descriptor)
    try:
        os.link(staging, path)  # fails if another worker got there first: theirs wins
    except FileExistsError:
        pass
    finally:
        staging.unlink()


def _read(path: Path) -> bytes:
    for _ in range(READ_RETRIES):
        try:
            value = path.read_bytes().strip()
        except FileNotFoundError:
            _create(path)
            continue
        if len(value) >= SECRET_BYTES:
            return value
        time.sleep(0.01)
    raise RuntimeError(f"The server secret in {path} is unreadable or too short; delete it to make a new one.")


@lru_cache(maxsize=4)
def _secret_for(key: str | None, path: str) -> bytes:
    return key.encode() if key else _read(Path(path))


def server_secret() -> bytes:
    settings = get_settings()
    return _secret_for(settings.secret_key, str(settings.secret_file))


def derive(purpose: str, value: str) -> str:
    """A hex HMAC of `value` for `purpose`: stable, unguessable without the secret."""
    message = f"{purpose}\x00{value}".encode("utf-8", "surrogatepass")
    return hmac.new(server_secret(), message, hashlib.sha256).hexdigest()


def sign(purpose: str, payload: str) -> str:
    """`payload` with a MAC for `purpose`: readable by anyone, forgeable by no one without the secret."""
    return f"{payload}.{derive(purpose, payload)}"


def unsign(purpose: str, value: str | None) -> list[str] | None:
    """The dot-separated fields of a value `sign` made for `purpose`; None if forged or mangled."""
    payload, _, mac = (value or "").rpartition(".")
    if not payload or not hmac.compare_digest(derive(purpose, payload), mac):
        return None
    return payload.split(".")
