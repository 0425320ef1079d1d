"""an index of each endpoint's pending webhook messages

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 08:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = 'ix_webhook_messages_endpoint_pending'


def upgrade() -> None:
    # Built without blocking deliveries: an endpoint's history may already be long.
    with op.get_context().autocommit_block():
        op.create_index(INDEX, 'webhook_messages', ['endpoint_id', 'next_attempt_at', 'created_at'],
                        unique=False, postgresql_where=sa.text("status = 'pending'"),
                        postgresql_concurrently=True, if_not_exists=True)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.drop_index(INDEX, table_name='webhook_messages', postgresql_concurrently=True, if_exists=True)
