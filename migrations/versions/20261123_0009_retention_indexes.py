"""indexes for retention: the oldest rows of each pruned table first, and an event's webhook messages

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (name, table, columns, partial index condition)
INDEXES: tuple[tuple[str, str, list[str], str | None], ...] = (
    ('ix_webhook_messages_event', 'webhook_messages', ['event_id'], None),
    ('ix_webhook_attempts_attempted', 'webhook_attempts', ['attempted_at'], None),
    ('ix_idempotency_keys_created', 'idempotency_keys', ['created_at'], None),
    ('ix_notifications_read', 'notifications', ['read_at'], 'read_at IS NOT NULL'),
)


def upgrade() -> None:
    # Built concurrently: the tables stay writable however large they are.
    with op.get_context().autocommit_block():
        for name, table, columns, where in INDEXES:
            op.create_index(name, table, columns, unique=False,
                            postgresql_where=sa.text(where) if where else None, postgresql_concurrently=True,
                            if_not_exists=True)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name, table, _columns, _where in reversed(INDEXES):
            op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
