"""webhook messages carry their lease; attempts are written once, with their outcome

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 05:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = 'ix_webhook_messages_leased'


def upgrade() -> None:
    # Nullable, no default: a change of the catalogue only, whatever the table's size.
    op.add_column('webhook_messages', sa.Column('lease_id', sa.Uuid(), nullable=True))
    # An attempt still open at upgrade time becomes its message's lease: that endpoint stays busy
    # until the outcome comes or the lease expires, as before.
    op.execute("""
        UPDATE webhook_messages m SET lease_id = a.id
        FROM webhook_attempts a
        WHERE a.message_id = m.id AND m.status = 'pending' AND a.status_code IS NULL AND a.error IS NULL
    """)
    with op.get_context().autocommit_block():
        op.create_index(INDEX, 'webhook_messages', ['endpoint_id'], unique=False,
                        postgresql_where=sa.text('lease_id IS NOT NULL'), postgresql_concurrently=True,
                        if_not_exists=True)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(INDEX, table_name='webhook_messages', postgresql_concurrently=True, if_exists=True)
    op.drop_column('webhook_messages', 'lease_id')
