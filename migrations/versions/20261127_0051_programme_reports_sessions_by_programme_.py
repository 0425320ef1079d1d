"""programme reports: weekly and per-pairing summaries kept by the analytics worker; sessions by programme; a
pairing's match run and rank; accounts disabled by an admin

Revision ID: 0051
Revises: 0050
Create Date: 2026-11-27 08:25:29.568776
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0051'
down_revision: str | None = '0050'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A programme's individual sessions whose time came or that someone cancelled, each with its week (Monday, UTC), its
# pairing (the pair's latest pairing made before it started; none when they were not paired yet) and its review's
# rating: what the analytics worker's summaries (workflows/reports/tallies.py) are computed from, whether kept event by
# event or rebuilt. Not cancellations: the system's (moves by agreement), nor the rest of a series cancelled from that
# moment (a pairing paused or ended: its coming sessions go with it, at the moment the series says).
SESSION_OUTCOMES = """
CREATE VIEW programme_session_outcomes AS
SELECT s.id AS session_id, s.programme_id, s.mentor_profile_id, s.mentee_user_id, owner.id AS pairing_id,
       s.start_time, date_trunc('week', s.start_time AT TIME ZONE 'UTC')::date AS week, s.status, s.cancelled_by,
       (extract(epoch FROM s.end_time - s.start_time)::int / 60) AS minutes, r.rating
FROM sessions s
LEFT JOIN LATERAL (SELECT p.id FROM pairings p
                   WHERE p.programme_id = s.programme_id AND p.mentor_profile_id = s.mentor_profile_id
                     AND p.mentee_user_id = s.mentee_user_id AND p.created_at <= s.start_time
                   ORDER BY p.created_at DESC LIMIT 1) owner ON true
LEFT JOIN reviews r ON r.session_id = s.id
LEFT JOIN bookings b ON b.id = s.booking_id
LEFT JOIN booking_series bs ON bs.id = b.series_id
WHERE s.programme_id IS NOT NULL AND s.kind = 'individual'
  AND s.status IN ('completed', 'cancelled', 'missed', 'mentee_no_show', 'mentor_no_show')
  AND NOT (s.status = 'cancelled' AND (s.cancelled_by IS NOT DISTINCT FROM 'system'
                                       OR coalesce(s.cancelled_at >= bs.cancelled_from, false)))
"""


def upgrade() -> None:
    op.create_table('programme_tallies',
    sa.Column('programme_id', sa.Uuid(), nullable=False),
    sa.Column('proposed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('active', sa.Integer(), server_default='0', nullable=False),
    sa.Column('paused', sa.Integer(), server_default='0', nullable=False),
    sa.Column('ended', sa.Integer(), server_default='0', nullable=False),
    sa.Column('from_run', sa.Integer(), server_default='0', nullable=False),
    sa.Column('top3', sa.Integer(), server_default='0', nullable=False),
    sa.Column('goals_set', sa.Integer(), server_default='0', nullable=False),
    sa.Column('goals_done', sa.Integer(), server_default='0', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('proposed >= 0 AND active >= 0 AND paused >= 0 AND ended >= 0 AND from_run >= 0 AND top3 >= 0 AND goals_set >= 0 AND goals_done >= 0', name=op.f('ck_programme_tallies_counts_non_negative')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_programme_tallies_programme_id_programmes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('programme_id', name=op.f('pk_programme_tallies'))
    )
    op.create_table('programme_weeks',
    sa.Column('programme_id', sa.Uuid(), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('held', sa.Integer(), server_default='0', nullable=False),
    sa.Column('minutes_held', sa.Integer(), server_default='0', nullable=False),
    sa.Column('cancelled_by_mentor', sa.Integer(), server_default='0', nullable=False),
    sa.Column('cancelled_by_mentee', sa.Integer(), server_default='0', nullable=False),
    sa.Column('cancelled_by_other', sa.Integer(), server_default='0', nullable=False),
    sa.Column('no_show_mentee', sa.Integer(), server_default='0', nullable=False),
    sa.Column('no_show_mentor', sa.Integer(), server_default='0', nullable=False),
    sa.Column('missed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rating_sum', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rating_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('first_sessions', sa.Integer(), server_default='0', nullable=False),
    sa.Column('first_session_hours', sa.Integer(), server_default='0', nullable=False),
    sa.Column('pairs_started', sa.Integer(), server_default='0', nullable=False),
    sa.Column('pairs_ended', sa.Integer(), server_default='0', nullable=False),
    sa.Column('survey_sum', sa.Integer(), server_default='0', nullable=False),
    sa.Column('survey_count', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint('held >= 0 AND minutes_held >= 0 AND cancelled_by_mentor >= 0 AND cancelled_by_mentee >= 0 AND cancelled_by_other >= 0 AND no_show_mentee >= 0 AND no_show_mentor >= 0 AND missed >= 0 AND rating_sum >= 0 AND rating_count >= 0 AND first_sessions >= 0 AND first_session_hours >= 0 AND pairs_started >= 0 AND pairs_ended >= 0 AND survey_sum >= 0 AND survey_count >= 0', name=op.f('ck_programme_weeks_counts_non_negative')),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_programme_weeks_programme_id_programmes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('programme_id', 'week', name=op.f('pk_programme_weeks'))
    )
    op.create_table('pairing_tallies',
    sa.Column('pairing_id', sa.Uuid(), nullable=False),
    sa.Column('programme_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'active', 'paused', 'ended', name='pairingstatus', native_enum=False, length=16), nullable=False),
    sa.Column('paired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('from_run', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('match_rank', sa.SmallInteger(), nullable=True),
    sa.Column('held', sa.Integer(), server_default='0', nullable=False),
    sa.Column('cancelled', sa.Integer(), server_default='0', nullable=False),
    sa.Column('no_shows', sa.Integer(), server_default='0', nullable=False),
    sa.Column('missed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('first_held_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_held_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rating_sum', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rating_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('goals_set', sa.Integer(), server_default='0', nullable=False),
    sa.Column('goals_done', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint("status IN ('proposed', 'active', 'paused', 'ended')", name=op.f('ck_pairing_tallies_status_values')),
    sa.CheckConstraint('held >= 0 AND cancelled >= 0 AND no_shows >= 0 AND missed >= 0 AND rating_sum >= 0 AND rating_count >= 0 AND goals_set >= 0 AND goals_done >= 0', name=op.f('ck_pairing_tallies_counts_non_negative')),
    sa.ForeignKeyConstraint(['pairing_id'], ['pairings.id'], name=op.f('fk_pairing_tallies_pairing_id_pairings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['programme_id'], ['programmes.id'], name=op.f('fk_pairing_tallies_programme_id_programmes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pairing_id', name=op.f('pk_pairing_tallies'))
    )
    op.create_index('ix_pairing_tallies_programme', 'pairing_tallies', ['programme_id', 'paired_at', 'pairing_id'], unique=False)
    op.add_column('pairings', sa.Column('match_run_id', sa.Uuid(), nullable=True))
    op.add_column('pairings', sa.Column('match_rank', sa.SmallInteger(), nullable=True))
    op.create_foreign_key(op.f('fk_pairings_match_run_id_match_runs'), 'pairings', 'match_runs', ['match_run_id'], ['id'], ondelete='SET NULL')
    # sessions is large and hot: a column without a default (no rewrite), its key NOT VALID (checked at the end without
    # blocking writes), its index built concurrently; only the programmes' sessions are written.
    op.add_column('sessions', sa.Column('programme_id', sa.Uuid(), nullable=True))
    op.execute("ALTER TABLE sessions ADD CONSTRAINT fk_sessions_programme_id_programmes FOREIGN KEY (programme_id) "
               "REFERENCES programmes (id) ON DELETE SET NULL NOT VALID")
    op.add_column('users', sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('disabled_reason', sa.Text(), nullable=True))
    op.create_check_constraint(op.f('ck_users_disabled_reason_length'), 'users',
                               'disabled_reason IS NULL OR length(disabled_reason) <= 1000')
    op.create_check_constraint(op.f('ck_pairings_match_rank_range'), 'pairings', 'match_rank BETWEEN 1 AND 10')
    # Sessions already on a programme's listings belong to it (the analytics worker's rebuild fills the summaries).
    op.execute("UPDATE sessions SET programme_id = listings.programme_id FROM listings "
               "WHERE listings.id = sessions.listing_id AND listings.programme_id IS NOT NULL")
    op.execute(SESSION_OUTCOMES)
    with op.get_context().autocommit_block():
        op.execute("ALTER TABLE sessions VALIDATE CONSTRAINT fk_sessions_programme_id_programmes")
        op.create_index('ix_sessions_programme_start', 'sessions', ['programme_id', 'start_time', 'id'], unique=False,
                        postgresql_where=sa.text('programme_id IS NOT NULL'), postgresql_concurrently=True,
                        if_not_exists=True)


def downgrade() -> None:
    op.execute("DROP VIEW programme_session_outcomes")
    op.drop_constraint(op.f('ck_pairings_match_rank_range'), 'pairings', type_='check')
    op.drop_constraint(op.f('ck_users_disabled_reason_length'), 'users', type_='check')
    op.drop_column('users', 'disabled_reason')
    op.drop_column('users', 'disabled_at')
    op.drop_constraint(op.f('fk_sessions_programme_id_programmes'), 'sessions', type_='foreignkey')
    op.drop_index('ix_sessions_programme_start', table_name='sessions', postgresql_where=sa.text('programme_id IS NOT NULL'))
    op.drop_column('sessions', 'programme_id')
    op.drop_constraint(op.f('fk_pairings_match_run_id_match_runs'), 'pairings', type_='foreignkey')
    op.drop_column('pairings', 'match_rank')
    op.drop_column('pairings', 'match_run_id')
    op.drop_index('ix_pairing_tallies_programme', table_name='pairing_tallies')
    op.drop_table('pairing_tallies')
    op.drop_table('programme_weeks')
    op.drop_table('programme_tallies')
