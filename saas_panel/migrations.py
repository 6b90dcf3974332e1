"""Apply the committed Alembic migrations to the configured database."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from saas_panel.config import PROJECT_ROOT


# Made by migrations outside the models (the search indexes of migration 0009): autogenerate must
# neither drop them nor report them as differences.
UNMODELLED_PREFIXES = ("activity_search", "user_search", "container_search", "ix_activity_logs_search", "ix_users_search", "ix_containers_search")


def include_name(name: str | None, type_: str, _parent_names: dict) -> bool:
    return not (type_ in ("table", "index") and name and name.startswith(UNMODELLED_PREFIXES))


def alembic_config() -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    return config


def upgrade() -> None:
    command.upgrade(alembic_config(), "head")
