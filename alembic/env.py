from alembic import context
from sqlmodel import SQLModel

import saas_panel.models  # noqa: F401  (registers the tables)
from saas_panel.db import get_engine

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    engine = get_engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
