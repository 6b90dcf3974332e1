"""Apply the committed Alembic migrations to the configured database."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from saas_panel.config import PROJECT_ROOT


def alembic_config() -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    return config


def upgrade() -> None:
    command.upgrade(alembic_config(), "head")
