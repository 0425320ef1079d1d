"""listing teams, no overlapping accepted bookings per mentee, bundle withdrawal and validity start,
the fee of a cancelled booking

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('listing_members',
    sa.Column('listing_id', sa.Uuid(), nullable=False),
    sa.Column('mentor_profile_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('position >= 0', name=op.f('ck_listing_members_position_non_negative')),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_listing_members_listing_id_listings'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mentor_profile_id'], ['mentor_profiles.id'],
                            name=op.f('fk_listing_members_mentor_profile_id_mentor_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('listing_id', 'mentor_profile_id', name=op.f('pk_listing_members'))
    )
    op.create_index('ix_listing_members_mentor_profile_id', 'listing_members', ['mentor_profile_id'], unique=False)

    # Refused if existing data already breaks it: such rows need a decision by hand, not by a migration.
    op.execute(
        "ALTER TABLE bookings ADD CONSTRAINT ex_bookings_mentee_accepted_overlap EXCLUDE USING gist "
        "(mentee_user_id WITH =, tstzrange(start_time, end_time, '[)') WITH &&) WHERE (status = 'accepted')"
    )
    op.add_column('bookings', sa.Column('cancel_late', sa.Boolean(), nullable=True))
    op.add_column('bookings', sa.Column('cancel_fee_cents', sa.Integer(), nullable=True))
    op.create_check_constraint('fee_non_negative', 'bookings', 'cancel_fee_cents IS NULL OR cancel_fee_cents >= 0')

    op.add_column('bundles', sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('bundle_purchases', sa.Column('valid_from', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE bundle_purchases SET valid_from = created_at")
    op.alter_column('bundle_purchases', 'valid_from', nullable=False, server_default=sa.text('now()'))
    op.create_check_constraint('validity_ordered', 'bundle_purchases', 'valid_until > valid_from')


def downgrade() -> None:
    op.drop_constraint(op.f('ck_bundle_purchases_validity_ordered'), 'bundle_purchases')
    op.drop_column('bundle_purchases', 'valid_from')
    op.drop_column('bundles', 'withdrawn_at')
    op.drop_constraint(op.f('ck_bookings_fee_non_negative'), 'bookings')
    op.drop_column('bookings', 'cancel_fee_cents')
    op.drop_column('bookings', 'cancel_late')
    op.drop_constraint('ex_bookings_mentee_accepted_overlap', 'bookings')
    op.drop_index('ix_listing_members_mentor_profile_id', table_name='listing_members')
    op.drop_table('listing_members')
