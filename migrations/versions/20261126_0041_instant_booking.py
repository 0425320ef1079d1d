"""instant booking: a listing may be booked without the mentor's approval; its bookings say they were

Revision ID: 0041
Revises: 0040
Create Date: 2026-11-26 10:15:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0041'
down_revision: str | None = '0040'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every listing keeps asking for approval, as before; no booking was made instantly.
    op.add_column('listings', sa.Column('instant_booking', sa.Boolean(), server_default='false', nullable=False))
    op.add_column('bookings', sa.Column('instant', sa.Boolean(), server_default='false', nullable=False))


def downgrade() -> None:
    # Instant listings ask for approval again; their bookings stay accepted.
    op.drop_column('bookings', 'instant')
    op.drop_column('listings', 'instant_booking')
