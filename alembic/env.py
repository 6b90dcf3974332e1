from alembic import context
from sqlmodel import SQLModel

import saas_panel.models  # noqa: F401  (registers the tables)
from saas_panel.db import get_engine
from saas_panel.migrations import include_name

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    engine = get_engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            include_name=include_name,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
