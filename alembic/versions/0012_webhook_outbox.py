"""Webhook deliveries become an outbox: the body sent and when the next attempt is due

Revision ID: 0012
Revises: 0011
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0012'
down_revision: Union[str, None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('webhook_deliveries') as table:
        table.add_column(sa.Column('body', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True))
        table.add_column(sa.Column('next_attempt_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        table.create_index('ix_webhook_deliveries_next_attempt_at', ['next_attempt_at'])


def downgrade() -> None:
    with op.batch_alter_table('webhook_deliveries') as table:
        table.drop_index('ix_webhook_deliveries_next_attempt_at')
        table.drop_column('next_attempt_at')
        table.drop_column('body')
