"""outbox handler rows: a failed row's backoff, and an index for claiming one handler's batch

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = 'ix_outbox_handlers_pending_by_handler'


def upgrade() -> None:
    # Nullable, no default: a change of the catalogue only, whatever the table's size.
    op.add_column('outbox_handlers', sa.Column('backoff_until', sa.DateTime(timezone=True), nullable=True))
    # Built concurrently, outside the transaction (which commits the column first): the table stays writable.
    with op.get_context().autocommit_block():
        op.create_index(INDEX, 'outbox_handlers', ['handler', 'next_attempt_at'], unique=False,
                        postgresql_where=sa.text("status = 'pending'"), postgresql_concurrently=True,
                        if_not_exists=True)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(INDEX, table_name='outbox_handlers', postgresql_concurrently=True, if_exists=True)
    op.drop_column('outbox_handlers', 'backoff_until')
