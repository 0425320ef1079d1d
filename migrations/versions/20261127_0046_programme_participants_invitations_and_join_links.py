"""programme participants, invitations and join links

Revision ID: 0046
Revises: 0045
Create Date: 2026-11-27 01:20:26.126900
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0046'
down_revision: str | None = '0045'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Who takes part in a programme (one row per person and programme, kept when they leave or are removed), the
    # addresses its coordinators invite (one pending invitation per address) and the links they share (uses
    # counted against a cap in one statement). workflows.programmes.enrolment.
    op.create_table('programme_invitations',
    sa.Column('programme_id', sa.Uuid(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=120), server_default='', nullable=False),
    sa.Column('role', sa.Enum('mentor', 'mentee', name='participantrole', native_enum=False, length=16), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'accepted', 'declined', 'withdrawn', name='invitationstatus', native_enum=False, length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('invited_by_user_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('email_status', sa.Enum('none', 'pending', 'sent', 'failed', name='emailstatus', native_enum=False, length=16), nullable=False),
    sa.Column('email_attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("(role = 'mentor') = (capacity IS NOT NULL) AND (capacity IS NULL OR capacity BETWEEN 1 AND 20)", name=op.f('ck_programme_invitations_capacity_for_mentors')),
    sa.CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name=op.f('ck_programme_invitations_decided_unless_pending')),
    sa.CheckConstraint("email = lower(email) AND position('@' in email) > 1", name=op.f('ck_programme_invitations_email_shape')),
    sa.CheckConstraint("email_status IN ('none', 'pending', 'sent', 'failed')", name=op.f('ck_programme_invitations_email_status_values')),
    sa.CheckConstraint("role IN ('mentor', 'mentee')", name=op.f('ck_programme_invitations_role_values')),
    sa.CheckConstraint("status IN ('pending', 'accepted', 'declined', 'withdrawn')", name=op.f('ck_programme_invitations_status_values')),
    sa.ForeignKeyConstraint(['invited_by_user_id'], ['users.id'], name=op.f('fk_programme_invitations_invited_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_programme_invitations_programme_id_programmes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_programme_invitations_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_invitations'))
    )
    op.create_index('ix_programme_invitations_emailed', 'programme_invitations', ['programme_id', 'emailed_at'], unique=False, postgresql_where=sa.text('emailed_at IS NOT NULL'))
    op.create_index('ix_programme_invitations_mail_owed', 'programme_invitations', ['programme_id', 'created_at'], unique=False, postgresql_where=sa.text("email_status = 'pending'"))
    op.create_index('ix_programme_invitations_programme_created', 'programme_invitations', ['programme_id', 'created_at', 'id'], unique=False)
    op.create_index('uq_programme_invitations_pending', 'programme_invitations', ['programme_id', 'email'], unique=True, postgresql_where=sa.text("status = 'pending'"))
    op.create_index('uq_programme_invitations_token_hash', 'programme_invitations', ['token_hash'], unique=True)
    op.create_table('programme_join_links',
    sa.Column('programme_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.Enum('mentor', 'mentee', name='participantrole', native_enum=False, length=16), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('max_uses', sa.Integer(), nullable=False),
    sa.Column('uses', sa.Integer(), server_default='0', nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_user_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("(role = 'mentor') = (capacity IS NOT NULL) AND (capacity IS NULL OR capacity BETWEEN 1 AND 20)", name=op.f('ck_programme_join_links_capacity_for_mentors')),
    sa.CheckConstraint("role IN ('mentor', 'mentee')", name=op.f('ck_programme_join_links_role_values')),
    sa.CheckConstraint('max_uses BETWEEN 1 AND 10000', name=op.f('ck_programme_join_links_max_uses_range')),
    sa.CheckConstraint('uses BETWEEN 0 AND max_uses', name=op.f('ck_programme_join_links_uses_within_cap')),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['users.id'], name=op.f('fk_programme_join_links_created_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_programme_join_links_programme_id_programmes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_join_links'))
    )
    op.create_index('ix_programme_join_links_programme_created', 'programme_join_links', ['programme_id', 'created_at', 'id'], unique=False)
    op.create_index('uq_programme_join_links_token_hash', 'programme_join_links', ['token_hash'], unique=True)
    op.create_table('programme_participants',
    sa.Column('programme_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.Enum('mentor', 'mentee', name='participantrole', native_enum=False, length=16), nullable=False),
    sa.Column('status', sa.Enum('active', 'left', 'removed', name='participantstatus', native_enum=False, length=16), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('joined_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("(role = 'mentor') = (capacity IS NOT NULL) AND (capacity IS NULL OR capacity BETWEEN 1 AND 20)", name=op.f('ck_programme_participants_capacity_for_mentors')),
    sa.CheckConstraint("(status = 'active') = (ended_at IS NULL)", name=op.f('ck_programme_participants_ended_unless_active')),
    sa.CheckConstraint("role IN ('mentor', 'mentee')", name=op.f('ck_programme_participants_role_values')),
    sa.CheckConstraint("status IN ('active', 'left', 'removed')", name=op.f('ck_programme_participants_status_values')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_programme_participants_programme_id_programmes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_programme_participants_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_programme_participants'))
    )
    op.create_index('ix_programme_participants_programme_role', 'programme_participants', ['programme_id', 'status', 'role'], unique=False)
    op.create_index('ix_programme_participants_user_id', 'programme_participants', ['user_id'], unique=False)
    op.create_index('uq_programme_participants_programme_user', 'programme_participants', ['programme_id', 'user_id'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_programme_participants_programme_user', table_name='programme_participants')
    op.drop_index('ix_programme_participants_user_id', table_name='programme_participants')
    op.drop_index('ix_programme_participants_programme_role', table_name='programme_participants')
    op.drop_table('programme_participants')
    op.drop_index('uq_programme_join_links_token_hash', table_name='programme_join_links')
    op.drop_index('ix_programme_join_links_programme_created', table_name='programme_join_links')
    op.drop_table('programme_join_links')
    op.drop_index('uq_programme_invitations_token_hash', table_name='programme_invitations')
    op.drop_index('uq_programme_invitations_pending', table_name='programme_invitations', postgresql_where=sa.text("status = 'pending'"))
    op.drop_index('ix_programme_invitations_programme_created', table_name='programme_invitations')
    op.drop_index('ix_programme_invitations_mail_owed', table_name='programme_invitations', postgresql_where=sa.text("email_status = 'pending'"))
    op.drop_index('ix_programme_invitations_emailed', table_name='programme_invitations', postgresql_where=sa.text('emailed_at IS NOT NULL'))
    op.drop_table('programme_invitations')
