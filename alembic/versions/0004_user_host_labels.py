"""Every user gets a unique host label; older usernames with '_' get a cleaned-up one

Revision ID: 0004
Revises: 0003
"""
from itertools import count
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from saas_panel.services.host_labels import is_valid_label
from saas_panel.services.validation import RESERVED_USERNAMES


revision: str = '0004'
down_revision: Union[str, None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

FALLBACK_LABEL = 'user'  # for a name with nothing usable left, like '___'


def legacy_label(username: str, taken: set[str]) -> str:
    """'_' becomes '-' and '-' at either end goes; a label in `taken` gets '-2', '-3', ... instead."""
    base = username.replace('_', '-').strip('-')
    if not is_valid_label(base):
        base = FALLBACK_LABEL
    candidates = (base if n == 1 else f'{base}-{n}' for n in count(1))
    return next(label for label in candidates if label not in taken)


def _backfill(connection: sa.Connection) -> None:
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('username', sa.String), sa.column('host_label', sa.String))
    rows = connection.execute(sa.select(users.c.id, users.c.username).order_by(users.c.id)).all()
    # A name that is already a valid label stays the label; no other account may take it, nor the
    # platform's own names ('api_' must not become 'api').
    taken = {username for _, username in rows} | RESERVED_USERNAMES
    updates = []
    for user_id, username in rows:
        label = username if is_valid_label(username) else legacy_label(username, taken)
        taken.add(label)
        updates.append({'row_id': user_id, 'label': label})
    if updates:
        connection.execute(
            users.update().where(users.c.id == sa.bindparam('row_id')).values(host_label=sa.bindparam('label')),
            updates,
        )


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('host_label', sa.String(length=63), nullable=True))
    _backfill(op.get_bind())
    with op.batch_alter_table('users') as batch:
        batch.alter_column('host_label', existing_type=sa.String(length=63), nullable=False)
        batch.create_index(batch.f('ix_users_host_label'), ['host_label'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_index(batch.f('ix_users_host_label'))
        batch.drop_column('host_label')
