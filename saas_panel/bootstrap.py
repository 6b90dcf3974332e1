"""The database made ready for the panel: migrations, then the first admin.

`python -m saas_panel bootstrap` (`make run`, the image) runs it, and so does the
backend itself when it starts (`on_backend_start`, a Reflex lifespan task), so that
plain `reflex run` works on a new database too. Several processes may start at once
(the workers of one panel): they take turns under a lock, and each step does nothing
once done, so a generated admin password is made and printed once.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from saas_panel import migrations
from saas_panel.config import get_settings
from saas_panel.db import get_engine
from saas_panel.services import plans, users

POSTGRES_LOCK_KEY = 7_301_955_113  # any constant: names this lock among the database's advisory locks
ENGINE_DOWN = (
    "The Docker engine is not running. Start it with 'sudo systemctl start docker' (or 'sudo dockerd &') "
    "and add your user to the 'docker' group; the panel runs without it and says 'container engine unavailable'."
)


def bootstrap() -> None:
    with one_process_at_a_time():
        migrations.upgrade()
        result = users.ensure_admin()
        plans.ensure_default()
    if result.generated_password:
        print(
            "\n  First admin created. Log in as 'admin' with this password (shown once):\n"
            f"\n      {result.generated_password}\n\n"
            "  Change it with: python -m saas_panel create-admin\n",
            flush=True,
        )
    elif result.created:
        print("First admin 'admin' created with SAAS_PANEL_ADMIN_PASSWORD.", flush=True)


def on_backend_start() -> None:
    """A Reflex lifespan task; a plain function, so the backend serves only once it returned."""
    from saas_panel.runtime import get_runtime

    bootstrap()
    if not get_runtime().ping():
        print(ENGINE_DOWN, flush=True)


@contextmanager
def one_process_at_a_time() -> Iterator[None]:
    """PostgreSQL: a session advisory lock. SQLite: an exclusive lock on a file beside the database's."""
    url = get_settings().db_url
    if make_url(url).get_backend_name() == "postgresql":
        with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": POSTGRES_LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": POSTGRES_LOCK_KEY})
        return
    lock_path = Path(f"{make_url(url).database}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)  # released when the file is closed
        yield
