"""draft indexes: a mentor's and a mentee's pending requests by start, for the requests an accept settles

Revision ID: 0028
Revises: 0027
Create Date: 2026-11-25 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0028'
down_revision: str | None = '0027'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_bookings_mentor_draft_start', 'bookings', ['mentor_profile_id', 'start_time'], unique=False,
                    postgresql_where=sa.text("status = 'draft'"))
    op.create_index('ix_bookings_mentee_draft_start', 'bookings', ['mentee_user_id', 'start_time'], unique=False,
                    postgresql_where=sa.text("status = 'draft'"))


def downgrade() -> None:
    op.drop_index('ix_bookings_mentee_draft_start', table_name='bookings', postgresql_where=sa.text("status = 'draft'"))
    op.drop_index('ix_bookings_mentor_draft_start', table_name='bookings', postgresql_where=sa.text("status = 'draft'"))
