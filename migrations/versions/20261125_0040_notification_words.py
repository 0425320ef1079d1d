"""notification words: a notification keeps its templates and their typed words, rendered for each reader when read

Revision ID: 0040
Revises: 0039
Create Date: 2026-11-25 23:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0040'
down_revision: str | None = '0039'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Notifications written before keep their text as it was written: no words, nothing to render.
    op.add_column('notifications', sa.Column('words', postgresql.JSONB(astext_type=sa.Text()),
                                             server_default='{}', nullable=False))


def downgrade() -> None:
    # Notifications written since keep their templates as their text ("{other} asked for {listing} on {when}.").
    op.drop_column('notifications', 'words')
