"""calendar writes: an event written to a calendar that is no longer the target is owed a deletion

Revision ID: 0033
Revises: 0032
Create Date: 2026-11-25 12:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0033'
down_revision: str | None = '0032'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_OWED = 'written_sequence IS NULL OR written_sequence < sequence'
NEW_OWED = 'retire OR written_sequence IS NULL OR written_sequence < sequence'


def upgrade() -> None:
    op.add_column('calendar_writes', sa.Column('retire', sa.Boolean(), server_default='false', nullable=False))
    op.drop_index('ix_calendar_writes_owed', table_name='calendar_writes')
    op.create_index('ix_calendar_writes_owed', 'calendar_writes', ['next_attempt_at'], unique=False,
                    postgresql_where=sa.text(NEW_OWED))


def downgrade() -> None:
    op.execute('DELETE FROM calendar_writes WHERE retire')
    op.drop_index('ix_calendar_writes_owed', table_name='calendar_writes')
    op.create_index('ix_calendar_writes_owed', 'calendar_writes', ['next_attempt_at'], unique=False,
                    postgresql_where=sa.text(OLD_OWED))
    op.drop_column('calendar_writes', 'retire')
