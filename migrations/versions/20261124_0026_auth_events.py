"""auth events: sign-ins, failures, lock-outs, password and email changes, for the audit trail

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-25 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'auth_events',
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('client_address', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("kind IN ('signed_in', 'sign_in_failed', 'locked_out', 'signed_out', 'refresh_reused', 'password_changed', 'password_reset', 'email_change_requested', 'email_changed')", name=op.f('ck_auth_events_kind_values')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_auth_events_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_events'))
    )
    op.create_index('ix_auth_events_created', 'auth_events', ['created_at', 'id'], unique=False)
    op.create_index('ix_auth_events_user', 'auth_events', ['user_id', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_auth_events_user', table_name='auth_events')
    op.drop_index('ix_auth_events_created', table_name='auth_events')
    op.drop_table('auth_events')
