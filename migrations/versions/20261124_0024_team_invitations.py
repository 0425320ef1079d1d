"""team invitations: a mentor joins a listing's team by accepting one

Members who are on a team now stay members: they count as having accepted.

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-24 23:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "team_invitations",
    sa.Column('listing_id', sa.Uuid(), nullable=False),
    sa.Column('mentor_profile_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name=op.f('ck_team_invitations_decided_unless_pending')),
    sa.CheckConstraint("status IN ('pending', 'accepted', 'declined', 'withdrawn')", name=op.f('ck_team_invitations_status_values')),
    sa.CheckConstraint('position >= 0', name=op.f('ck_team_invitations_position_non_negative')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_team_invitations_listing_id_listings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mentor_profile_id'], ['mentor_profiles.id'], name=op.f('fk_team_invitations_mentor_profile_id_mentor_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team_invitations'))
    )
    op.create_index('ix_team_invitations_mentor_status', 'team_invitations', ['mentor_profile_id', 'status'], unique=False)
    op.create_index('uq_team_invitations_pending', 'team_invitations', ['listing_id', 'mentor_profile_id'], unique=True, postgresql_where=sa.text("status = 'pending'"))


def downgrade() -> None:
    op.drop_index('uq_team_invitations_pending', table_name='team_invitations', postgresql_where=sa.text("status = 'pending'"))
    op.drop_index('ix_team_invitations_mentor_status', table_name='team_invitations')
    op.drop_table('team_invitations')
