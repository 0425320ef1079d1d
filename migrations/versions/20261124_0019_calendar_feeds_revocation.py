"""calendar feeds: a revoked feed keeps its row without a token, with when and why it stopped

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-24 21:33:44
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('calendar_feeds', sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('calendar_feeds', sa.Column('revoked_reason', sa.String(length=16), nullable=True))
    op.alter_column('calendar_feeds', 'token_hash', existing_type=sa.VARCHAR(length=64), nullable=True)
    op.create_check_constraint("revoked_without_token", "calendar_feeds",
                               "(token_hash IS NULL) = (revoked_at IS NOT NULL)")
    op.create_check_constraint("revoked_reason_values", "calendar_feeds",
                               "revoked_reason IN ('revoked', 'password_changed', 'password_reset', 'account_deleted')")
    # Feeds of accounts deleted before this revision stop now.
    op.execute("UPDATE calendar_feeds SET token_hash = NULL, revoked_at = now(), revoked_reason = 'account_deleted'"
               " FROM users WHERE users.id = calendar_feeds.user_id AND users.deleted_at IS NOT NULL")


def downgrade() -> None:
    op.execute("DELETE FROM calendar_feeds WHERE token_hash IS NULL")
    op.drop_constraint("revoked_reason_values", "calendar_feeds", type_="check")
    op.drop_constraint("revoked_without_token", "calendar_feeds", type_="check")
    op.alter_column('calendar_feeds', 'token_hash', existing_type=sa.VARCHAR(length=64), nullable=False)
    op.drop_column('calendar_feeds', 'revoked_reason')
    op.drop_column('calendar_feeds', 'revoked_at')
