"""indexes for the admin console: requests and sessions by when they were made (the platform's numbers), every
review newest first, and the webhook endpoints failing or disabled

Revision ID: 0052
Revises: 0051
Create Date: 2026-11-27 09:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0052'
down_revision: str | None = '0051'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (name, table, columns, partial index condition, method): bookings and sessions by BRIN, cheap on their hot inserts.
INDEXES: tuple[tuple[str, str, list[str], str | None, str], ...] = (
    ('ix_bookings_created', 'bookings', ['created_at'], None, 'brin'),
    ('ix_sessions_created', 'sessions', ['created_at'], None, 'brin'),
    ('ix_reviews_created', 'reviews', ['created_at', 'id'], None, 'btree'),
    ('ix_webhook_endpoints_troubled', 'webhook_endpoints', ['created_at', 'id'],
     'failing_since IS NOT NULL OR NOT enabled', 'btree'),
)


def upgrade() -> None:
    # Built concurrently: the tables stay writable however large they are.
    with op.get_context().autocommit_block():
        for name, table, columns, where, method in INDEXES:
            op.create_index(name, table, columns, unique=False, postgresql_using=method,
                            postgresql_where=sa.text(where) if where else None, postgresql_concurrently=True,
                            if_not_exists=True)


def downgrade() -> None:
    with op.get_context().autocommit_block():
        for name, table, _columns, _where, _method in reversed(INDEXES):
            op.drop_index(name, table_name=table, postgresql_concurrently=True, if_exists=True)
