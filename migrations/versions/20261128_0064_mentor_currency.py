"""a mentor's currency: what their new listings are priced in unless they say; a mentor with listings starts with
their newest listing's

Revision ID: 0064
Revises: 0063
Create Date: 2026-11-28 06:35:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0064'
down_revision: str | None = '0063'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('mentor_profiles', sa.Column('currency', sa.String(length=3), server_default='USD', nullable=False))
    op.execute("UPDATE mentor_profiles SET currency = newest.currency FROM ("
               "SELECT DISTINCT ON (mentor_profile_id) mentor_profile_id, currency FROM listings "
               "ORDER BY mentor_profile_id, created_at DESC) AS newest WHERE newest.mentor_profile_id = mentor_profiles.id")


def downgrade() -> None:
    op.drop_column('mentor_profiles', 'currency')
