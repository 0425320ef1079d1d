"""pairings

Revision ID: 0048
Revises: 0047
Create Date: 2026-11-27 02:02:27.610020
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0048'
down_revision: str | None = '0047'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A programme's pairings (one live pairing per mentor and mentee), their closing surveys, and the listing a
    # programme's mentor is booked through (only the programme's people see it). workflows.programmes.pairings.
    op.create_table('pairings',
    sa.Column('programme_id', sa.Uuid(), nullable=False),
    sa.Column('mentor_participant_id', sa.Uuid(), nullable=False),
    sa.Column('mentee_participant_id', sa.Uuid(), nullable=False),
    sa.Column('mentor_profile_id', sa.Uuid(), nullable=False),
    sa.Column('mentee_user_id', sa.Uuid(), nullable=False),
    sa.Column('listing_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'active', 'paused', 'ended', name='pairingstatus', native_enum=False, length=16), nullable=False),
    sa.Column('cadence_weeks', sa.SmallInteger(), nullable=False),
    sa.Column('session_minutes', sa.SmallInteger(), nullable=False),
    sa.Column('session_count', sa.SmallInteger(), nullable=False),
    sa.Column('series_id', sa.Uuid(), nullable=True),
    sa.Column('first_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sessions_before', sa.SmallInteger(), server_default='0', nullable=False),
    sa.Column('proposed_by_user_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.String(length=16), nullable=True),
    sa.Column('end_reason', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("(status = 'ended') = (ended_at IS NOT NULL)", name=op.f('ck_pairings_ended_at_when_ended')),
    sa.CheckConstraint("status IN ('proposed', 'active', 'paused', 'ended')", name=op.f('ck_pairings_status_values')),
    sa.CheckConstraint('cadence_weeks IN (1, 2)', name=op.f('ck_pairings_cadence_values')),
    sa.CheckConstraint('mentor_participant_id <> mentee_participant_id', name=op.f('ck_pairings_two_people')),
    sa.CheckConstraint('session_count BETWEEN 1 AND 26', name=op.f('ck_pairings_session_count_range')),
    sa.CheckConstraint('session_minutes BETWEEN 15 AND 240', name=op.f('ck_pairings_session_minutes_range')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_pairings_listing_id_listings')),
    sa.ForeignKeyConstraint(['mentee_participant_id'], ['programme_participants.id'], name=op.f('fk_pairings_mentee_participant_id_programme_participants')),
    sa.ForeignKeyConstraint(['mentee_user_id'], ['users.id'], name=op.f('fk_pairings_mentee_user_id_users')),
    sa.ForeignKeyConstraint(['mentor_participant_id'], ['programme_participants.id'], name=op.f('fk_pairings_mentor_participant_id_programme_participants')),
    sa.ForeignKeyConstraint(['mentor_profile_id'], ['mentor_profiles.id'], name=op.f('fk_pairings_mentor_profile_id_mentor_profiles')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_pairings_programme_id_programmes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposed_by_user_id'], ['users.id'], name=op.f('fk_pairings_proposed_by_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['series_id'], ['booking_series.id'], name=op.f('fk_pairings_series_id_booking_series')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pairings'))
    )
    op.create_index('ix_pairings_mentee_user_id', 'pairings', ['mentee_user_id'], unique=False)
    op.create_index('ix_pairings_mentor_profile_id', 'pairings', ['mentor_profile_id'], unique=False)
    op.create_index('ix_pairings_programme_status', 'pairings', ['programme_id', 'status'], unique=False)
    op.create_index('ix_pairings_series_id', 'pairings', ['series_id'], unique=False)
    op.create_index('uq_pairings_live_pair', 'pairings', ['programme_id', 'mentor_participant_id', 'mentee_participant_id'], unique=True, postgresql_where=sa.text("status <> 'ended'"))
    op.create_table('pairing_surveys',
    sa.Column('pairing_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('rating', sa.SmallInteger(), nullable=False),
    sa.Column('comment', sa.Text(), server_default='', nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("role IN ('mentor', 'mentee')", name=op.f('ck_pairing_surveys_role_values')),
    sa.CheckConstraint('length(comment) <= 2000', name=op.f('ck_pairing_surveys_comment_length')),
    sa.CheckConstraint('rating BETWEEN 1 AND 5', name=op.f('ck_pairing_surveys_rating_range')),
    sa.ForeignKeyConstraint(['pairing_id'], ['pairings.id'], name=op.f('fk_pairing_surveys_pairing_id_pairings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_pairing_surveys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pairing_id', 'user_id', name=op.f('pk_pairing_surveys'))
    )
    op.add_column('listings', sa.Column('programme_id', sa.Uuid(), nullable=True))
    op.create_index(op.f('ix_listings_programme_id'), 'listings', ['programme_id'], unique=False)
    op.create_foreign_key(op.f('fk_listings_programme_id_programmes'), 'listings', 'programmes', ['programme_id'], ['id'])


def downgrade() -> None:
    op.drop_constraint(op.f('fk_listings_programme_id_programmes'), 'listings', type_='foreignkey')
    op.drop_index(op.f('ix_listings_programme_id'), table_name='listings')
    op.drop_column('listings', 'programme_id')
    op.drop_table('pairing_surveys')
    op.drop_index('uq_pairings_live_pair', table_name='pairings', postgresql_where=sa.text("status <> 'ended'"))
    op.drop_index('ix_pairings_series_id', table_name='pairings')
    op.drop_index('ix_pairings_programme_status', table_name='pairings')
    op.drop_index('ix_pairings_mentor_profile_id', table_name='pairings')
    op.drop_index('ix_pairings_mentee_user_id', table_name='pairings')
    op.drop_table('pairings')
