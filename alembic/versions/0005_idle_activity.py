"""Containers remember their last request through the edge; users can be exempt from the idle stop

Revision ID: 0005
Revises: 0004
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0005'
down_revision: Union[str, None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('containers') as batch:
        batch.add_column(sa.Column('last_activity_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch.create_index('ix_containers_last_activity_at', ['last_activity_at'], unique=False)
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('idle_exempt', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('idle_exempt')
    with op.batch_alter_table('containers') as batch:
        batch.drop_index('ix_containers_last_activity_at')
        batch.drop_column('last_activity_at')
