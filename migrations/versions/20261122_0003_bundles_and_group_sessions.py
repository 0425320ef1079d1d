"""bundles and group sessions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 04:27:11.236933
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _exclude(table: str, name: str, where: str) -> str:
    return (
        f"ALTER TABLE {table} ADD CONSTRAINT {name} EXCLUDE USING gist "
        f"(mentor_profile_id WITH =, tstzrange(start_time, end_time, '[)') WITH &&) WHERE ({where})"
    )


def upgrade() -> None:
    op.create_table('bundles',
    sa.Column('listing_id', sa.Uuid(), nullable=False),
    sa.Column('sessions_count', sa.Integer(), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('valid_days', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f('ck_bundles_currency_iso')),
    sa.CheckConstraint('price_cents >= 0', name=op.f('ck_bundles_price_non_negative')),
    sa.CheckConstraint('sessions_count BETWEEN 1 AND 100', name=op.f('ck_bundles_sessions_count_range')),
    sa.CheckConstraint('valid_days BETWEEN 1 AND 730', name=op.f('ck_bundles_valid_days_range')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_bundles_listing_id_listings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bundles'))
    )
    op.create_index(op.f('ix_bundles_listing_id'), 'bundles', ['listing_id'], unique=False)
    op.create_table('bundle_purchases',
    sa.Column('bundle_id', sa.Uuid(), nullable=False),
    sa.Column('mentee_user_id', sa.Uuid(), nullable=False),
    sa.Column('remaining_sessions', sa.Integer(), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.CheckConstraint('remaining_sessions >= 0', name=op.f('ck_bundle_purchases_remaining_non_negative')),
    sa.ForeignKeyConstraint(['bundle_id'], ['bundles.id'], name=op.f('fk_bundle_purchases_bundle_id_bundles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mentee_user_id'], ['users.id'], name=op.f('fk_bundle_purchases_mentee_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bundle_purchases'))
    )
    op.create_index(op.f('ix_bundle_purchases_bundle_id'), 'bundle_purchases', ['bundle_id'], unique=False)
    op.create_index('ix_bundle_purchases_mentee_created', 'bundle_purchases', ['mentee_user_id', 'created_at', 'id'], unique=False)
    op.add_column('bookings', sa.Column('bundle_purchase_id', sa.Uuid(), nullable=True))
    op.add_column('bookings', sa.Column('credit_status', sa.String(length=16), server_default='none', nullable=False))
    op.add_column('bookings', sa.Column('group_session_id', sa.Uuid(), nullable=True))
    op.create_index(op.f('ix_bookings_bundle_purchase_id'), 'bookings', ['bundle_purchase_id'], unique=False)
    op.create_index(op.f('ix_bookings_group_session_id'), 'bookings', ['group_session_id'], unique=False)
    op.create_index('uq_bookings_group_seat', 'bookings', ['group_session_id', 'mentee_user_id'], unique=True, postgresql_where=sa.text("group_session_id IS NOT NULL AND status = 'accepted'"))
    op.create_foreign_key(op.f('fk_bookings_group_session_id_sessions'), 'bookings', 'sessions', ['group_session_id'], ['id'])
    op.create_foreign_key(op.f('fk_bookings_bundle_purchase_id_bundle_purchases'), 'bookings', 'bundle_purchases', ['bundle_purchase_id'], ['id'])
    op.add_column('sessions', sa.Column('seats_taken', sa.Integer(), server_default='0', nullable=False))
    op.create_check_constraint(
        "credit_status_values", "bookings", "credit_status IN ('none', 'held', 'returned', 'forfeited')"
    )
    op.create_check_constraint(
        "credit_needs_purchase", "bookings", "(bundle_purchase_id IS NULL) = (credit_status = 'none')"
    )
    op.create_check_constraint(
        "seats_within_capacity", "sessions", "seats_taken >= 0 AND (capacity IS NULL OR seats_taken <= capacity)"
    )
    # Seats of a group session are accepted bookings sharing its time: the mentor-overlap
    # rule on bookings applies to individual bookings; live sessions get their own rule.
    op.drop_constraint("ex_bookings_mentor_accepted_overlap", "bookings")
    op.execute(_exclude("bookings", "ex_bookings_mentor_accepted_overlap",
                        "status = 'accepted' AND group_session_id IS NULL"))
    op.execute(_exclude("sessions", "ex_sessions_mentor_live_overlap", "status IN ('scheduled', 'in_progress')"))


def downgrade() -> None:
    op.drop_constraint("ex_sessions_mentor_live_overlap", "sessions")
    op.drop_constraint("ex_bookings_mentor_accepted_overlap", "bookings")
    op.execute(_exclude("bookings", "ex_bookings_mentor_accepted_overlap", "status = 'accepted'"))
    op.drop_constraint(op.f("ck_sessions_seats_within_capacity"), "sessions")
    op.drop_constraint(op.f("ck_bookings_credit_needs_purchase"), "bookings")
    op.drop_constraint(op.f("ck_bookings_credit_status_values"), "bookings")
    op.drop_column('sessions', 'seats_taken')
    op.drop_constraint(op.f('fk_bookings_bundle_purchase_id_bundle_purchases'), 'bookings', type_='foreignkey')
    op.drop_constraint(op.f('fk_bookings_group_session_id_sessions'), 'bookings', type_='foreignkey')
    op.drop_index('uq_bookings_group_seat', table_name='bookings', postgresql_where=sa.text("group_session_id IS NOT NULL AND status = 'accepted'"))
    op.drop_index(op.f('ix_bookings_group_session_id'), table_name='bookings')
    op.drop_index(op.f('ix_bookings_bundle_purchase_id'), table_name='bookings')
    op.drop_column('bookings', 'group_session_id')
    op.drop_column('bookings', 'credit_status')
    op.drop_column('bookings', 'bundle_purchase_id')
    op.drop_index('ix_bundle_purchases_mentee_created', table_name='bundle_purchases')
    op.drop_index(op.f('ix_bundle_purchases_bundle_id'), table_name='bundle_purchases')
    op.drop_table('bundle_purchases')
    op.drop_index(op.f('ix_bundles_listing_id'), table_name='bundles')
    op.drop_table('bundles')
