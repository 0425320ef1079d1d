"""attendance confirmation: a no-show found on one side's word moves credits and fees only once final

Revision ID: 0039
Revises: 0038
Create Date: 2026-11-25 18:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0039'
down_revision: str | None = '0038'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('bookings', sa.Column('no_show_confirmed_at', sa.DateTime(timezone=True), nullable=True))
    # Findings made before this revision moved their credit and fee at once: they are final.
    op.execute("UPDATE bookings SET no_show_confirmed_at = no_show_at WHERE no_show IS NOT NULL")
    op.create_index('ix_bookings_no_show_unconfirmed', 'bookings', ['no_show_at'], unique=False,
                    postgresql_where=sa.text("no_show IN ('mentee', 'mentor') AND no_show_confirmed_at IS NULL"))


def downgrade() -> None:
    op.drop_index('ix_bookings_no_show_unconfirmed', table_name='bookings',
                  postgresql_where=sa.text("no_show IN ('mentee', 'mentor') AND no_show_confirmed_at IS NULL"))
    op.drop_column('bookings', 'no_show_confirmed_at')
