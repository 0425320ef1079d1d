"""discovery and admin: a listing's location, a session's meeting URL and agenda, hidden reviews, admin actions

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-24 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable columns: changes of the catalogue only, whatever the tables' size.
    op.add_column('listings', sa.Column('location', sa.String(length=500), nullable=True))
    op.add_column('sessions', sa.Column('meeting_url', sa.String(length=500), nullable=True))
    op.add_column('sessions', sa.Column('agenda', sa.Text(), nullable=True))
    # Added NOT VALID (no scan under the exclusive lock), then validated under a weaker one.
    op.execute("ALTER TABLE sessions ADD CONSTRAINT ck_sessions_meeting_url_https "
               "CHECK (meeting_url IS NULL OR meeting_url ~ '^https://') NOT VALID")
    op.execute("ALTER TABLE sessions VALIDATE CONSTRAINT ck_sessions_meeting_url_https")
    op.execute("ALTER TABLE sessions ADD CONSTRAINT ck_sessions_agenda_length "
               "CHECK (agenda IS NULL OR length(agenda) <= 5000) NOT VALID")
    op.execute("ALTER TABLE sessions VALIDATE CONSTRAINT ck_sessions_agenda_length")
    op.add_column('reviews', sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('reviews', sa.Column('hidden_reason', sa.Text(), nullable=True))
    op.create_table(
        'admin_actions',
        sa.Column('admin_user_id', sa.Uuid(), nullable=True),
        sa.Column('action', sa.String(length=64), nullable=False),
        sa.Column('target_type', sa.String(length=32), nullable=False),
        sa.Column('target_id', sa.Uuid(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(['admin_user_id'], ['users.id'], name=op.f('fk_admin_actions_admin_user_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_actions')),
    )
    op.create_index('ix_admin_actions_created', 'admin_actions', ['created_at', 'id'], unique=False)
    op.create_index('ix_admin_actions_target', 'admin_actions', ['target_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_admin_actions_target', table_name='admin_actions')
    op.drop_index('ix_admin_actions_created', table_name='admin_actions')
    op.drop_table('admin_actions')
    op.drop_column('reviews', 'hidden_reason')
    op.drop_column('reviews', 'hidden_at')
    op.drop_constraint('ck_sessions_agenda_length', 'sessions', type_='check')
    op.drop_constraint('ck_sessions_meeting_url_https', 'sessions', type_='check')
    op.drop_column('sessions', 'agenda')
    op.drop_column('sessions', 'meeting_url')
    op.drop_column('listings', 'location')
