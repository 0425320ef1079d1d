"""sequence counts seats: a group session's iCalendar SEQUENCE rises when its seat count changes (its title shows it)

Revision ID: 0043
Revises: 0042
Create Date: 2026-11-26 10:45:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0043'
down_revision: str | None = '0042'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _bump_on(columns: str) -> str:
    return f"""
        CREATE OR REPLACE FUNCTION sessions_bump_calendar_sequence() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF ({columns}) IS DISTINCT FROM ({columns.replace('NEW.', 'OLD.')})
            THEN
                NEW.calendar_sequence := OLD.calendar_sequence + 1;
            END IF;
            RETURN NEW;
        END $$
    """


def upgrade() -> None:
    # The mentor's calendar titles a group session "… with 3 participants": a seat taken or given up changes it.
    op.execute(_bump_on("NEW.start_time, NEW.end_time, NEW.status, NEW.seats_taken"))


def downgrade() -> None:
    op.execute(_bump_on("NEW.start_time, NEW.end_time, NEW.status"))
