"""webhook endpoints keep the secret a rotation replaced, until it expires

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 14:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: a change of the catalogue only, whatever the table's size.
    op.add_column('webhook_endpoints', sa.Column('previous_secret', sa.String(length=128), nullable=True))
    op.add_column('webhook_endpoints',
                  sa.Column('previous_secret_expires_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('webhook_endpoints', 'previous_secret_expires_at')
    op.drop_column('webhook_endpoints', 'previous_secret')
