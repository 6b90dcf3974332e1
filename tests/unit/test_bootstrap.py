"""The bootstrap that `make run` and every starting backend run: one process at a time, and
the generated admin password made and printed once however many start together."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from saas_panel.bootstrap import one_process_at_a_time
from saas_panel.config import PROJECT_ROOT
from saas_panel.services import users

SHOWN_ONCE = "with this password (shown once)"


def _start_bootstrap(db_url: str) -> subprocess.Popen:
    env = {**os.environ, "REFLEX_DB_URL": db_url}
    env.pop("SAAS_PANEL_ADMIN_PASSWORD", None)
    return subprocess.Popen(
        [sys.executable, "-m", "saas_panel", "bootstrap"], env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True
    )


def test_a_bootstrap_waits_while_another_process_holds_the_lock(db):
    with one_process_at_a_time():
        waiting = _start_bootstrap(db)
        with pytest.raises(subprocess.TimeoutExpired):
            waiting.wait(timeout=10)
        assert users.count_users() == (0, 0)
    output, _ = waiting.communicate(timeout=120)
    assert waiting.returncode == 0
    assert SHOWN_ONCE in output and users.count_users() == (1, 1)


def test_processes_starting_together_make_one_admin_and_print_its_password_once(db):
    starting = [_start_bootstrap(db) for _ in range(3)]
    outputs = [process.communicate(timeout=120)[0] for process in starting]
    assert [process.returncode for process in starting] == [0, 0, 0]
    assert sum(SHOWN_ONCE in output for output in outputs) == 1
    assert users.count_users() == (1, 1)
