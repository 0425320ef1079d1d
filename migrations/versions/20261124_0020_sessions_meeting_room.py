"""sessions: a random meeting room secret each, for the default meeting link

The default link used to carry the session's id, which group session listings show to everyone.
Existing sessions get a secret too (a volatile default: one per row).

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-24 21:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('sessions', sa.Column(
        'meeting_room', sa.String(length=64), nullable=False,
        server_default=sa.text("replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '')")))


def downgrade() -> None:
    op.drop_column('sessions', 'meeting_room')
