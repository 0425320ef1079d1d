"""reviews may be anonymous: shown as "A mentee" instead of a first name and initial

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-24 22:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('reviews', sa.Column('anonymous', sa.Boolean(), server_default='false', nullable=False))


def downgrade() -> None:
    op.drop_column('reviews', 'anonymous')
