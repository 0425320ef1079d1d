"""outbox handler rows: one index on pending rows, by handler; the index across handlers goes

A claim of one handler's rows could be planned on the index of every handler's pending rows, and
then read past every other handler's backlog; the relay reads each handler's due rows on its own.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-24 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_outbox_handlers_due', table_name='outbox_handlers', postgresql_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    op.create_index('ix_outbox_handlers_due', 'outbox_handlers', ['next_attempt_at'], unique=False,
                    postgresql_where=sa.text("status = 'pending'"))
