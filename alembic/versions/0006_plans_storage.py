"""Plans (image, limits, storage, idle timeout) and each user's plan and measured storage

Revision ID: 0006
Revises: 0005
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0006'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'plans',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('image', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('cpu_limit', sa.Float(), nullable=False),
        sa.Column('mem_limit_mb', sa.Integer(), nullable=False),
        sa.Column('storage_mb', sa.Integer(), nullable=False),
        sa.Column('idle_stop_minutes', sa.Float(), nullable=True),
        sa.Column('is_default', sa.Boolean(), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_index('ix_plans_is_default', 'plans', ['is_default'], unique=False)
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('plan_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('storage_used_bytes', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('storage_measured_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('storage_warned', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.create_index('ix_users_plan_id', ['plan_id'], unique=False)
        batch.create_index('ix_users_storage_used_bytes', ['storage_used_bytes'], unique=False)
        batch.create_foreign_key('fk_users_plan_id_plans', 'plans', ['plan_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_constraint('fk_users_plan_id_plans', type_='foreignkey')
        batch.drop_index('ix_users_storage_used_bytes')
        batch.drop_index('ix_users_plan_id')
        batch.drop_column('storage_warned')
        batch.drop_column('storage_measured_at')
        batch.drop_column('storage_used_bytes')
        batch.drop_column('plan_id')
    op.drop_index('ix_plans_is_default', table_name='plans')
    op.drop_table('plans')
