"""A seat that its group session's cancellation ended, told from one its mentee gave up before (who no longer reads
the session or its conversation).

Revision ID: 0074
Revises: 0073
Create Date: 2026-11-28 16:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0074'
down_revision: str | None = '0073'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('bookings', sa.Column('ended_with_session', sa.Boolean(), server_default='false', nullable=False))
    # The seats cancelled sessions ended before: those that carry the session's own reason (a mentee who left wrote
    # theirs).
    op.execute("UPDATE bookings SET ended_with_session = true FROM sessions "
               "WHERE bookings.group_session_id = sessions.id AND bookings.status = 'cancelled' "
               "AND sessions.status = 'cancelled' AND bookings.cancel_reason IS NOT DISTINCT FROM sessions.cancel_reason")


def downgrade() -> None:
    op.drop_column('bookings', 'ended_with_session')
