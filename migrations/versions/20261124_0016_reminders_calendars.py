"""reminders and calendars: session_reminders, calendar_feeds, sessions.calendar_sequence

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-24 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'session_reminders',
        sa.Column('session_id', sa.Uuid(), nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('offset_seconds', sa.Integer(), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.CheckConstraint('offset_seconds > 0', name=op.f('ck_session_reminders_offset_positive')),
        sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], name=op.f('fk_session_reminders_session_id_sessions'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_session_reminders_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('session_id', 'user_id', 'offset_seconds', name=op.f('pk_session_reminders')),
    )
    op.create_table(
        'calendar_feeds',
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_calendar_feeds_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', name=op.f('pk_calendar_feeds')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_calendar_feeds_token_hash')),
    )
    # A constant default: a change of the catalogue only, whatever the table's size.
    op.add_column('sessions', sa.Column('calendar_sequence', sa.Integer(), server_default='0', nullable=False))
    # Every change of time or status raises the iCalendar SEQUENCE, whichever code path makes it.
    op.execute("""
        CREATE FUNCTION sessions_bump_calendar_sequence() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF (NEW.start_time, NEW.end_time, NEW.status) IS DISTINCT FROM (OLD.start_time, OLD.end_time, OLD.status)
            THEN
                NEW.calendar_sequence := OLD.calendar_sequence + 1;
            END IF;
            RETURN NEW;
        END $$
    """)
    op.execute("CREATE TRIGGER trg_sessions_calendar_sequence BEFORE UPDATE ON sessions "
               "FOR EACH ROW EXECUTE FUNCTION sessions_bump_calendar_sequence()")


def downgrade() -> None:
    op.execute("DROP TRIGGER trg_sessions_calendar_sequence ON sessions")
    op.execute("DROP FUNCTION sessions_bump_calendar_sequence()")
    op.drop_column('sessions', 'calendar_sequence')
    op.drop_table('calendar_feeds')
    op.drop_table('session_reminders')
