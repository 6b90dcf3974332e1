"""Activity rows keep the ids of their actor and target; emails are stored in lowercase

Revision ID: 0003
Revises: 0002
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: Union[str, None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('activity_logs') as batch:
        batch.add_column(sa.Column('actor_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('target_id', sa.Integer(), nullable=True))
    op.create_index('ix_activity_logs_actor_id', 'activity_logs', ['actor_id'])
    op.create_index('ix_activity_logs_target_id', 'activity_logs', ['target_id'])
    # History so far named accounts by username; attach it to the accounts that exist now.
    op.execute("UPDATE activity_logs SET actor_id = (SELECT id FROM users WHERE users.username = activity_logs.actor)")
    op.execute("UPDATE activity_logs SET target_id = (SELECT id FROM users WHERE users.username = activity_logs.target)")
    # Lowercase every email that does not collide with another account's (a collision is left
    # for an admin to resolve: neither account may lose its login).
    op.execute(
        "UPDATE users SET email = lower(email) WHERE email <> lower(email) AND NOT EXISTS "
        "(SELECT 1 FROM users AS other WHERE other.id <> users.id AND lower(other.email) = lower(users.email))"
    )


def downgrade() -> None:
    op.drop_index('ix_activity_logs_target_id', table_name='activity_logs')
    op.drop_index('ix_activity_logs_actor_id', table_name='activity_logs')
    with op.batch_alter_table('activity_logs') as batch:
        batch.drop_column('target_id')
        batch.drop_column('actor_id')
