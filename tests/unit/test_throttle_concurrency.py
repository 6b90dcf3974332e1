"""Parallel attempts cannot share the last free slot of a throttle (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlmodel import func, select

from saas_panel.db import session_scope
from saas_panel.errors import AuthenticationError, Throttled
from saas_panel.models import ThrottleHit
from saas_panel.services import auth, security

ACCOUNT_LIMIT = 5
ATTEMPTS = 24


def test_parallel_wrong_logins_never_pass_the_account_limit(make_user, monkeypatch):
    monkeypatch.setenv("SAAS_PANEL_LOGIN_ACCOUNT_LIMIT", str(ACCOUNT_LIMIT))
    monkeypatch.setenv("SAAS_PANEL_BCRYPT_ROUNDS", "4")
    make_user("target", "correct horse")
    checks, real_verify = [], security.verify_password
    monkeypatch.setattr(auth, "verify_password", lambda *a: checks.append(1) or real_verify(*a))
    start = threading.Barrier(ATTEMPTS)

    def attempt(n: int) -> str:
        start.wait()  # every thread reaches the throttle at once
        try:
            auth.authenticate("target", "wrong password", f"10.0.{n}.1")  # one IP each: only the account limit applies
        except AuthenticationError:
            return "checked"
        except Throttled:
            return "throttled"
        return "signed in"

    with ThreadPoolExecutor(max_workers=ATTEMPTS) as pool:
        outcomes = list(pool.map(attempt, range(ATTEMPTS)))

    assert outcomes.count("checked") == ACCOUNT_LIMIT, outcomes
    assert outcomes.count("throttled") == ATTEMPTS - ACCOUNT_LIMIT
    assert len(checks) == ACCOUNT_LIMIT  # bcrypt ran only for the attempts that were let through
    with session_scope() as session:
        counted = session.exec(select(func.count()).select_from(ThrottleHit).where(ThrottleHit.key == "login:user:target")).one()
    assert counted == ACCOUNT_LIMIT
