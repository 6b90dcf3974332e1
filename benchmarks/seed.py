"""Seed a database with many users, containers and activity rows for the admin console.

    python benchmarks/seed.py [--users 10000] [--activity 100000] [--containers 0.3]

Writes to the configured database (REFLEX_DB_URL). Every user shares one
precomputed bcrypt hash (password SEED_PASSWORD), so seeding takes seconds.
Rows are inserted in bulk; the data is deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SEED_PASSWORD = "seeded password"
BATCH = 5_000
ACTIONS = ("login", "logout", "signup", "provision", "start", "stop", "restart", "remove_container", "disable_user", "enable_user")
OUTCOMES = ("success",) * 17 + ("failure", "failure", "denied")
STATES = ("running",) * 6 + ("stopped",) * 3 + ("error",)


def _batches(rows: list[dict]):
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def seed(users: int = 10_000, activity_rows: int = 100_000, container_share: float = 0.3, seed_value: int = 4) -> dict:
    """Insert `users` users (prefixed `seed`), containers for a share of them, and `activity_rows` log rows."""
    from sqlalchemy import insert, select

    from saas_panel.config import get_settings
    from saas_panel.db import session_scope
    from saas_panel.models import ActivityLog, Container, User, utcnow
    from saas_panel.services.security import hash_password

    rng = random.Random(seed_value)
    now = utcnow()
    password_hash = hash_password(SEED_PASSWORD, 4)
    image = get_settings().user_image
    names = [f"seed{i:05d}" for i in range(users)]
    user_rows = [
        {
            "username": name,
            "host_label": name,  # seed names are valid host labels already
            "email": f"{name}@example.com",
            "password_hash": password_hash,
            "role": "admin" if i % 1000 == 0 else "user",
            "is_active": i % 20 != 0,
            "created_at": now - timedelta(minutes=rng.randrange(0, 180 * 24 * 60)),
            "last_login_at": now - timedelta(minutes=rng.randrange(0, 30 * 24 * 60)) if i % 3 else None,
        }
        for i, name in enumerate(names)
    ]
    with session_scope() as session:
        for batch in _batches(user_rows):
            session.execute(insert(User), batch)
    with session_scope() as session:
        ids = dict(session.execute(select(User.username, User.id).where(User.username.in_(names[: int(users * container_share)]))).all())
        container_rows = [
            {
                "user_id": ids[name],
                "name": f"{get_settings().container_prefix}{name}",
                "image": image,
                "state": rng.choice(STATES),
                "host_port": 20_000 + i,
                "created_at": now - timedelta(minutes=rng.randrange(0, 90 * 24 * 60)),
                "updated_at": now,
            }
            for i, name in enumerate(sorted(ids))
        ]
        for batch in _batches(container_rows):
            session.execute(insert(Container), batch)
    log_rows = []
    for i in range(activity_rows):
        actor = rng.choice(names) if i % 10 else rng.choice(("system", "admin"))
        log_rows.append(
            {
                "created_at": now - timedelta(seconds=rng.randrange(0, 180 * 24 * 3600)),
                "actor": actor,
                "action": rng.choice(ACTIONS),
                "target": rng.choice(names),
                "ip": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}",
                "outcome": rng.choice(OUTCOMES),
                "details": None if i % 4 else f"seeded row {i}",
            }
        )
    with session_scope() as session:
        for batch in _batches(log_rows):
            session.execute(insert(ActivityLog), batch)
    return {"users": len(user_rows), "containers": len(container_rows), "activity": len(log_rows)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--activity", type=int, default=100_000)
    parser.add_argument("--containers", type=float, default=0.3, help="share of users with a container row")
    args = parser.parse_args(argv)
    from saas_panel import migrations

    migrations.upgrade()
    print(seed(args.users, args.activity, args.containers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
