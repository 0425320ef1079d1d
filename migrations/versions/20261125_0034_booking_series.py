"""booking series: weekly or fortnightly meetings requested and answered at once

Revision ID: 0034
Revises: 0033
Create Date: 2026-11-25 12:25:38.384456
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0034'
down_revision: str | None = '0033'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('booking_series',
    sa.Column('listing_id', sa.Uuid(), nullable=False),
    sa.Column('mentor_profile_id', sa.Uuid(), nullable=False),
    sa.Column('mentee_user_id', sa.Uuid(), nullable=False),
    sa.Column('every_weeks', sa.SmallInteger(), nullable=False),
    sa.Column('first_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('until', sa.Date(), nullable=True),
    sa.Column('occurrences', sa.SmallInteger(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('notes', sa.Text(), server_default='', nullable=False),
    sa.Column('bundle_purchase_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.Enum('requested', 'accepted', 'declined', 'withdrawn', 'ended', name='seriesstatus', native_enum=False, length=16), nullable=False),
    sa.Column('left_out', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.Column('cancelled_from', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by', sa.String(length=16), nullable=True),
    sa.Column('end_reason', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('requested', 'accepted', 'declined', 'withdrawn', 'ended')", name=op.f('ck_booking_series_status_values')),
    sa.CheckConstraint('end_reason IS NULL OR length(end_reason) <= 1000', name=op.f('ck_booking_series_end_reason_length')),
    sa.CheckConstraint('every_weeks IN (1, 2)', name=op.f('ck_booking_series_every_weeks_values')),
    sa.CheckConstraint('length(notes) <= 2000', name=op.f('ck_booking_series_notes_length')),
    sa.CheckConstraint('occurrences BETWEEN 1 AND 26', name=op.f('ck_booking_series_occurrences_bounded')),
    sa.ForeignKeyConstraint(['bundle_purchase_id'], ['bundle_purchases.id'], name=op.f('fk_booking_series_bundle_purchase_id_bundle_purchases')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_booking_series_listing_id_listings')),
    sa.ForeignKeyConstraint(['mentee_user_id'], ['users.id'], name=op.f('fk_booking_series_mentee_user_id_users')),
    sa.ForeignKeyConstraint(['mentor_profile_id'], ['mentor_profiles.id'], name=op.f('fk_booking_series_mentor_profile_id_mentor_profiles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_series'))
    )
    op.create_index(op.f('ix_booking_series_listing_id'), 'booking_series', ['listing_id'], unique=False)
    op.create_index('ix_booking_series_mentee_created', 'booking_series', ['mentee_user_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_booking_series_mentor_created', 'booking_series', ['mentor_profile_id', 'created_at', 'id'], unique=False)
    op.add_column('bookings', sa.Column('series_id', sa.Uuid(), nullable=True))
    op.create_index('ix_bookings_series', 'bookings', ['series_id', 'start_time'], unique=False,
                    postgresql_where=sa.text('series_id IS NOT NULL'))
    op.create_foreign_key(op.f('fk_bookings_series_id_booking_series'), 'bookings', 'booking_series', ['series_id'], ['id'])


def downgrade() -> None:
    op.drop_constraint(op.f('fk_bookings_series_id_booking_series'), 'bookings', type_='foreignkey')
    op.drop_index('ix_bookings_series', table_name='bookings')
    op.drop_column('bookings', 'series_id')
    op.drop_index('ix_booking_series_mentor_created', table_name='booking_series')
    op.drop_index('ix_booking_series_mentee_created', table_name='booking_series')
    op.drop_index(op.f('ix_booking_series_listing_id'), table_name='booking_series')
    op.drop_table('booking_series')
