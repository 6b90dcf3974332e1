"""Threshold alerts: rules, the alerts they fire, and their webhook deliveries

Revision ID: 0011
Revises: 0010
"""
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0011'
down_revision: Union[str, None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

text = sqlmodel.sql.sqltypes.AutoString
moment = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        'alert_rules',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('metric', text(length=16), nullable=False),
        sa.Column('threshold', sa.Float(), nullable=False),
        sa.Column('for_seconds', sa.Integer(), nullable=False),
        sa.Column('scope', text(length=16), nullable=False),
        sa.Column('scope_user_id', sa.Integer(), nullable=True),
        sa.Column('scope_plan_id', sa.Integer(), nullable=True),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('webhook_url', text(length=500), nullable=True),
        sa.Column('webhook_secret', text(length=100), nullable=True),
        sa.Column('created_at', moment(), nullable=False),
        sa.Column('updated_at', moment(), nullable=False),
        sa.ForeignKeyConstraint(['scope_user_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['scope_plan_id'], ['plans.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_index('ix_alert_rules_scope_user_id', 'alert_rules', ['scope_user_id'])
    op.create_index('ix_alert_rules_scope_plan_id', 'alert_rules', ['scope_plan_id'])
    op.create_table(
        'alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('rule_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('username', text(length=32), nullable=False),
        sa.Column('value', sa.Float(), nullable=False),
        sa.Column('state', text(length=16), nullable=False),
        sa.Column('fired_at', moment(), nullable=False),
        sa.Column('resolved_at', moment(), nullable=True),
        sa.ForeignKeyConstraint(['rule_id'], ['alert_rules.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    for column in ('rule_id', 'user_id', 'state', 'fired_at'):
        op.create_index(f'ix_alerts_{column}', 'alerts', [column])
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('alert_id', sa.Integer(), nullable=True),
        sa.Column('event', text(length=16), nullable=False),
        sa.Column('host', text(length=255), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('delivered', sa.Boolean(), nullable=False),
        sa.Column('error', text(length=300), nullable=True),
        sa.Column('created_at', moment(), nullable=False),
        sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_webhook_deliveries_alert_id', 'webhook_deliveries', ['alert_id'])
    op.create_index('ix_webhook_deliveries_created_at', 'webhook_deliveries', ['created_at'])


def downgrade() -> None:
    op.drop_table('webhook_deliveries')
    op.drop_table('alerts')
    op.drop_table('alert_rules')
