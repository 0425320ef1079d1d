"""waitlists: a line for the seats of full group sessions

Revision ID: 0035
Revises: 0034
Create Date: 2026-11-25 12:41:04.903805
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0035'
down_revision: str | None = '0034'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('waitlist_entries',
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('line', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('status', sa.Enum('waiting', 'offered', 'promoted', 'expired', 'left', 'closed', name='waitliststatus', native_enum=False, length=16), nullable=False),
    sa.Column('take_at_once', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('offered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('offer_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('booking_id', sa.Uuid(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status <> 'offered' OR offer_expires_at IS NOT NULL", name=op.f('ck_waitlist_entries_offer_has_an_end')),
    sa.CheckConstraint("status IN ('waiting', 'offered', 'promoted', 'expired', 'left', 'closed')", name=op.f('ck_waitlist_entries_status_values')),
    sa.CheckConstraint('note IS NULL OR length(note) <= 300', name=op.f('ck_waitlist_entries_note_length')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_waitlist_entries_booking_id_bookings')),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_waitlist_entries_session_id_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_waitlist_entries_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist_entries'))
    )
    op.create_index('ix_waitlist_entries_next', 'waitlist_entries', ['session_id', 'line'], unique=False, postgresql_where=sa.text("status = 'waiting'"))
    op.create_index('ix_waitlist_entries_offers', 'waitlist_entries', ['offer_expires_at'], unique=False, postgresql_where=sa.text("status = 'offered'"))
    op.create_index('ix_waitlist_entries_user', 'waitlist_entries', ['user_id', 'created_at'], unique=False)
    op.create_index('uq_waitlist_entries_in_line', 'waitlist_entries', ['session_id', 'user_id'], unique=True, postgresql_where=sa.text("status IN ('waiting', 'offered')"))


def downgrade() -> None:
    op.drop_index('uq_waitlist_entries_in_line', table_name='waitlist_entries', postgresql_where=sa.text("status IN ('waiting', 'offered')"))
    op.drop_index('ix_waitlist_entries_user', table_name='waitlist_entries')
    op.drop_index('ix_waitlist_entries_offers', table_name='waitlist_entries', postgresql_where=sa.text("status = 'offered'"))
    op.drop_index('ix_waitlist_entries_next', table_name='waitlist_entries', postgresql_where=sa.text("status = 'waiting'"))
    op.drop_table('waitlist_entries')
