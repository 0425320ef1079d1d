"""A mentor profile the service makes for a programme's mentor has no headline, not the English word "Mentor" that
every reader read in English: the screens leave it out. The profiles made so far lose that word.

Revision ID: 0076
Revises: 0075
Create Date: 2026-11-29 02:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0076'
down_revision: str | None = '0075'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint('ck_mentor_profiles_headline_length', 'mentor_profiles')
    op.create_check_constraint('headline_length', 'mentor_profiles',
                               'length(headline) BETWEEN 0 AND 200')
    op.execute("UPDATE mentor_profiles SET headline = '' WHERE headline = 'Mentor' AND bio = '' AND NOT public "
               "AND id IN (SELECT mentor_profile_id FROM listings WHERE programme_id IS NOT NULL)")


def downgrade() -> None:
    op.execute("UPDATE mentor_profiles SET headline = 'Mentor' WHERE headline = ''")
    op.drop_constraint('ck_mentor_profiles_headline_length', 'mentor_profiles')
    op.create_check_constraint('headline_length', 'mentor_profiles',
                               'length(headline) BETWEEN 1 AND 200')
