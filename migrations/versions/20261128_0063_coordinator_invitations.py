"""an admin's naming of a coordinator by address: pending until the address is confirmed as an account's

Revision ID: 0063
Revises: 0062
Create Date: 2026-11-28 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0063'
down_revision: str | None = '0062'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        'coordinator_invitations',
        sa.Column('programme_id', sa.Uuid(), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('invited_by_user_id', sa.Uuid(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('status', sa.Enum('pending', 'accepted', 'declined', 'withdrawn', name='invitationstatus',
                                    native_enum=False, length=16), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('user_id', sa.Uuid(), nullable=True),
        sa.Column('email_status', sa.Enum('none', 'pending', 'sent', 'failed', 'unconfirmed', name='emailstatus',
                                          native_enum=False, length=16), nullable=False),
        sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.CheckConstraint("email_status IN ('none', 'pending', 'sent', 'failed', 'unconfirmed')",
                           name=op.f('ck_coordinator_invitations_email_status_values')),
        sa.CheckConstraint("status IN ('pending', 'accepted', 'declined', 'withdrawn')",
                           name=op.f('ck_coordinator_invitations_status_values')),
        sa.ForeignKeyConstraint(['invited_by_user_id'], ['users.id'],
                                name=op.f('fk_coordinator_invitations_invited_by_user_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'],
                                name=op.f('fk_coordinator_invitations_programme_id_programmes'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_coordinator_invitations_user_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_coordinator_invitations')),
    )
    op.create_index('ix_coordinator_invitations_email', 'coordinator_invitations', ['email'], unique=False,
                    postgresql_where=PENDING)
    op.create_index('ix_coordinator_invitations_token', 'coordinator_invitations', ['token_hash'], unique=True)
    op.create_index('uq_coordinator_invitations_pending', 'coordinator_invitations', ['programme_id', 'email'],
                    unique=True, postgresql_where=PENDING)


def downgrade() -> None:
    op.drop_index('uq_coordinator_invitations_pending', table_name='coordinator_invitations', postgresql_where=PENDING)
    op.drop_index('ix_coordinator_invitations_token', table_name='coordinator_invitations')
    op.drop_index('ix_coordinator_invitations_email', table_name='coordinator_invitations', postgresql_where=PENDING)
    op.drop_table('coordinator_invitations')
