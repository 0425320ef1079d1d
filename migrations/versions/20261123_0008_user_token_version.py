"""users carry a token version: raising it ends every token issued before

Revision ID: 0008
Revises: 0005
Create Date: 2026-11-23 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A constant default: PostgreSQL records it in the catalogue and rewrites no rows.
    # Tokens issued before carry no version and are read as version 0, so nobody is signed out.
    op.add_column('users', sa.Column('token_version', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    op.drop_column('users', 'token_version')
