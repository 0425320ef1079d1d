"""retention of refresh tokens and reminders: indexes on refresh_tokens.expires_at, session_reminders.sent_at

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-24 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_refresh_tokens_expires_at', 'refresh_tokens', ['expires_at'], unique=False)
    op.create_index('ix_session_reminders_sent_at', 'session_reminders', ['sent_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_session_reminders_sent_at', table_name='session_reminders')
    op.drop_index('ix_refresh_tokens_expires_at', table_name='refresh_tokens')
