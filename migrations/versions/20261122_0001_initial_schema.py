"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 03:57:49.870249
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # btree_gist lets one GiST exclusion constraint compare a uuid (=) and a time range (&&).
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table('outbox_events',
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('aggregate_type', sa.String(length=32), nullable=False),
    sa.Column('aggregate_id', sa.Uuid(), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=True),
    sa.Column('request_id', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_events'))
    )
    op.create_index('ix_outbox_events_aggregate', 'outbox_events', ['aggregate_id', 'created_at'], unique=False)
    op.create_index('ix_outbox_events_created', 'outbox_events', ['created_at'], unique=False)
    op.create_table('skills',
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('name = lower(name) AND length(name) BETWEEN 1 AND 50', name=op.f('ck_skills_name_shape')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_skills')),
    sa.UniqueConstraint('name', name=op.f('uq_skills_name'))
    )
    op.create_table('users',
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('is_admin', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("position('@' in email) > 1", name=op.f('ck_users_email_shape')),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_users_email_lower_case')),
    sa.CheckConstraint('length(display_name) BETWEEN 1 AND 100', name=op.f('ck_users_display_name_length')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('idempotency_keys',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('endpoint', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response_body', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('status_code BETWEEN 200 AND 599', name=op.f('ck_idempotency_keys_status_code_range')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_idempotency_keys_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'key', name=op.f('pk_idempotency_keys'))
    )
    op.create_table('mentor_profiles',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('headline', sa.String(length=200), nullable=False),
    sa.Column('bio', sa.Text(), server_default='', nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('rating_average', sa.Numeric(precision=3, scale=2), nullable=True),
    sa.Column('rating_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('length(headline) BETWEEN 1 AND 200', name=op.f('ck_mentor_profiles_headline_length')),
    sa.CheckConstraint('rating_average IS NULL OR rating_average BETWEEN 1 AND 5', name=op.f('ck_mentor_profiles_rating_average_range')),
    sa.CheckConstraint('rating_count >= 0', name=op.f('ck_mentor_profiles_rating_count_non_negative')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_mentor_profiles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentor_profiles')),
    sa.UniqueConstraint('user_id', name=op.f('uq_mentor_profiles_user_id'))
    )
    op.create_table('outbox_handlers',
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('handler', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'done')", name=op.f('ck_outbox_handlers_status_values')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_outbox_handlers_attempts_non_negative')),
    sa.ForeignKeyConstraint(['event_id'], ['outbox_events.id'], name=op.f('fk_outbox_handlers_event_id_outbox_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', 'handler', name=op.f('pk_outbox_handlers'))
    )
    op.create_index('ix_outbox_handlers_due', 'outbox_handlers', ['next_attempt_at'], unique=False, postgresql_where=sa.text("status = 'pending'"))
    op.create_table('availability_windows',
    sa.Column('mentor_profile_id', sa.Uuid(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start_minute', sa.Integer(), nullable=False),
    sa.Column('end_minute', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute', name=op.f('ck_availability_windows_minutes_range')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_availability_windows_weekday_range')),
    sa.ForeignKeyConstraint(['mentor_profile_id'], ['mentor_profiles.id'], name=op.f('fk_availability_windows_mentor_profile_id_mentor_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_availability_windows')),
    sa.UniqueConstraint('mentor_profile_id', 'weekday', 'start_minute', name=op.f('uq_availability_windows_mentor_profile_id'))
    )
    op.create_table('listings',
    sa.Column('mentor_profile_id', sa.Uuid(), nullable=False),
    sa.Column('skill_id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("(kind = 'group' AND capacity BETWEEN 2 AND 500) OR (kind = 'individual' AND capacity IS NULL)", name=op.f('ck_listings_capacity_by_kind')),
    sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f('ck_listings_currency_iso')),
    sa.CheckConstraint("kind IN ('individual', 'group')", name=op.f('ck_listings_kind_values')),
    sa.CheckConstraint('duration_minutes BETWEEN 15 AND 480', name=op.f('ck_listings_duration_range')),
    sa.CheckConstraint('length(title) BETWEEN 1 AND 200', name=op.f('ck_listings_title_length')),
    sa.CheckConstraint('price_cents >= 0', name=op.f('ck_listings_price_non_negative')),
    sa.ForeignKeyConstraint(['mentor_profile_id'], ['mentor_profiles.id'], name=op.f('fk_listings_mentor_profile_id_mentor_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['skill_id'], ['skills.id'], name=op.f('fk_listings_skill_id_skills')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listings'))
    )
    op.create_index('ix_listings_mentor_created', 'listings', ['mentor_profile_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_listings_skill_id'), 'listings', ['skill_id'], unique=False)
    op.create_table('mentor_profile_skills',
    sa.Column('mentor_profile_id', sa.Uuid(), nullable=False),
    sa.Column('skill_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['mentor_profile_id'], ['mentor_profiles.id'], name=op.f('fk_mentor_profile_skills_mentor_profile_id_mentor_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['skill_id'], ['skills.id'], name=op.f('fk_mentor_profile_skills_skill_id_skills'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('mentor_profile_id', 'skill_id', name=op.f('pk_mentor_profile_skills'))
    )
    op.create_index(op.f('ix_mentor_profile_skills_skill_id'), 'mentor_profile_skills', ['skill_id'], unique=False)
    op.create_table('bookings',
    sa.Column('listing_id', sa.Uuid(), nullable=False),
    sa.Column('mentor_profile_id', sa.Uuid(), nullable=False),
    sa.Column('mentee_user_id', sa.Uuid(), nullable=False),
    sa.Column('start_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('notes', sa.Text(), server_default='', nullable=False),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    postgresql.ExcludeConstraint((sa.column('mentor_profile_id'), '='), (sa.text("tstzrange(start_time, end_time, '[)')"), '&&'), where=sa.text("status = 'accepted'"), using='gist', name='ex_bookings_mentor_accepted_overlap'),
    sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f('ck_bookings_currency_iso')),
    sa.CheckConstraint("status IN ('draft', 'accepted', 'declined', 'cancelled', 'expired')", name=op.f('ck_bookings_status_values')),
    sa.CheckConstraint('end_time > start_time', name=op.f('ck_bookings_times_ordered')),
    sa.CheckConstraint('price_cents >= 0', name=op.f('ck_bookings_price_non_negative')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_bookings_listing_id_listings')),
    sa.ForeignKeyConstraint(['mentee_user_id'], ['users.id'], name=op.f('fk_bookings_mentee_user_id_users')),
    sa.ForeignKeyConstraint(['mentor_profile_id'], ['mentor_profiles.id'], name=op.f('fk_bookings_mentor_profile_id_mentor_profiles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings'))
    )
    op.create_index('ix_bookings_draft_start', 'bookings', ['start_time'], unique=False, postgresql_where=sa.text("status = 'draft'"))
    op.create_index(op.f('ix_bookings_listing_id'), 'bookings', ['listing_id'], unique=False)
    op.create_index('ix_bookings_mentee_created', 'bookings', ['mentee_user_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_bookings_mentor_created', 'bookings', ['mentor_profile_id', 'created_at', 'id'], unique=False)
    op.create_table('sessions',
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('booking_id', sa.Uuid(), nullable=True),
    sa.Column('listing_id', sa.Uuid(), nullable=False),
    sa.Column('mentor_profile_id', sa.Uuid(), nullable=False),
    sa.Column('mentee_user_id', sa.Uuid(), nullable=True),
    sa.Column('start_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('end_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('action_items', postgresql.JSONB(astext_type=sa.Text()), server_default='[]', nullable=False),
    sa.Column('metadata', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by', sa.String(length=16), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by', sa.String(length=16), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('cancel_late', sa.Boolean(), nullable=True),
    sa.Column('cancel_fee_cents', sa.Integer(), nullable=True),
    sa.Column('credit_refunded', sa.Boolean(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind <> 'group' OR (booking_id IS NULL AND capacity BETWEEN 2 AND 500)", name=op.f('ck_sessions_group_has_capacity')),
    sa.CheckConstraint("kind <> 'individual' OR (booking_id IS NOT NULL AND mentee_user_id IS NOT NULL AND capacity IS NULL)", name=op.f('ck_sessions_individual_has_booking')),
    sa.CheckConstraint("kind IN ('individual', 'group')", name=op.f('ck_sessions_kind_values')),
    sa.CheckConstraint("status <> 'completed' OR completed_at IS NOT NULL", name=op.f('ck_sessions_completed_has_time')),
    sa.CheckConstraint("status <> 'in_progress' OR started_at IS NOT NULL", name=op.f('ck_sessions_started_has_time')),
    sa.CheckConstraint("status IN ('scheduled', 'in_progress', 'completed', 'cancelled', 'missed')", name=op.f('ck_sessions_status_values')),
    sa.CheckConstraint('cancel_fee_cents IS NULL OR cancel_fee_cents >= 0', name=op.f('ck_sessions_fee_non_negative')),
    sa.CheckConstraint('end_time > start_time', name=op.f('ck_sessions_times_ordered')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_sessions_booking_id_bookings')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_sessions_listing_id_listings')),
    sa.ForeignKeyConstraint(['mentee_user_id'], ['users.id'], name=op.f('fk_sessions_mentee_user_id_users')),
    sa.ForeignKeyConstraint(['mentor_profile_id'], ['mentor_profiles.id'], name=op.f('fk_sessions_mentor_profile_id_mentor_profiles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sessions')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_sessions_booking_id'))
    )
    op.create_index('ix_sessions_mentee_start', 'sessions', ['mentee_user_id', 'start_time', 'id'], unique=False)
    op.create_index('ix_sessions_mentor_start', 'sessions', ['mentor_profile_id', 'start_time', 'id'], unique=False)
    op.create_index('ix_sessions_open_end', 'sessions', ['end_time'], unique=False, postgresql_where=sa.text("status IN ('scheduled', 'in_progress')"))


def downgrade() -> None:
    op.drop_index('ix_sessions_open_end', table_name='sessions', postgresql_where=sa.text("status IN ('scheduled', 'in_progress')"))
    op.drop_index('ix_sessions_mentor_start', table_name='sessions')
    op.drop_index('ix_sessions_mentee_start', table_name='sessions')
    op.drop_table('sessions')
    op.drop_index('ix_bookings_mentor_created', table_name='bookings')
    op.drop_index('ix_bookings_mentee_created', table_name='bookings')
    op.drop_index(op.f('ix_bookings_listing_id'), table_name='bookings')
    op.drop_index('ix_bookings_draft_start', table_name='bookings', postgresql_where=sa.text("status = 'draft'"))
    op.drop_table('bookings')
    op.drop_index(op.f('ix_mentor_profile_skills_skill_id'), table_name='mentor_profile_skills')
    op.drop_table('mentor_profile_skills')
    op.drop_index(op.f('ix_listings_skill_id'), table_name='listings')
    op.drop_index('ix_listings_mentor_created', table_name='listings')
    op.drop_table('listings')
    op.drop_table('availability_windows')
    op.drop_index('ix_outbox_handlers_due', table_name='outbox_handlers', postgresql_where=sa.text("status = 'pending'"))
    op.drop_table('outbox_handlers')
    op.drop_table('mentor_profiles')
    op.drop_table('idempotency_keys')
    op.drop_table('users')
    op.drop_table('skills')
    op.drop_index('ix_outbox_events_created', table_name='outbox_events')
    op.drop_index('ix_outbox_events_aggregate', table_name='outbox_events')
    op.drop_table('outbox_events')
