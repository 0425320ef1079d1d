"""webhook messages keep their place in the batch that leased them

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: a change of the catalogue only, whatever the table's size.
    op.add_column('webhook_messages', sa.Column('lease_rank', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column('webhook_messages', 'lease_rank')
