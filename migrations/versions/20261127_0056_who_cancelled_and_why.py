"""who cancelled a session and why: coordinator and system among those who cancel, a session's cause; the programme
reports count every cancellation but a move, by who made it

Revision ID: 0056
Revises: 0055
Create Date: 2026-11-27 16:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0056'
down_revision: str | None = '0055'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHO = "('mentor', 'mentee', 'coordinator', 'admin', 'system')"
CAUSES = "('request', 'pause', 'end', 'leave', 'removal', 'reschedule')"

# A programme's individual sessions whose time came or that someone cancelled, each with its week (Monday, UTC), its
# pairing (the pair's latest pairing made before it started; none when they were not paired yet), who cancelled it and
# why, and its review's rating: the one definition the dashboard, the pairs at risk, the exports and a pairing's page
# count from (docs/PRIMER.md, "Programme reports"). A session moved by agreement is no outcome: its new one is.
SESSION_OUTCOMES = """
CREATE VIEW programme_session_outcomes AS
SELECT s.id AS session_id, s.programme_id, s.mentor_profile_id, s.mentee_user_id, owner.id AS pairing_id,
       s.start_time, date_trunc('week', s.start_time AT TIME ZONE 'UTC')::date AS week, s.status, s.cancelled_by,
       s.cancel_cause, (extract(epoch FROM s.end_time - s.start_time)::int / 60) AS minutes, r.rating
FROM sessions s
LEFT JOIN LATERAL (SELECT p.id FROM pairings p
                   WHERE p.programme_id = s.programme_id AND p.mentor_profile_id = s.mentor_profile_id
                     AND p.mentee_user_id = s.mentee_user_id AND p.created_at <= s.start_time
                   ORDER BY p.created_at DESC LIMIT 1) owner ON true
LEFT JOIN reviews r ON r.session_id = s.id
WHERE s.programme_id IS NOT NULL AND s.kind = 'individual'
  AND s.status IN ('completed', 'cancelled', 'missed', 'mentee_no_show', 'mentor_no_show')
  AND s.cancel_cause IS DISTINCT FROM 'reschedule'
"""

# The sessions a pairing's move cancelled with the rest of its series, found by the events of that one transaction
# (which share its start time): the series' cancellation from the very moment the session was cancelled, the pairing's
# pause or end, and a participant's leave or removal beside it. Who: an end's ``ended_by``; a pause's actor, the
# mentee, the mentor, an admin, or else a coordinator.
CAUSED_BY_PAIRINGS = """
CREATE TEMPORARY TABLE caused AS
SELECT DISTINCT ON (s.id) s.id AS session_id, bs.id AS series_id,
       CASE WHEN p.type = 'pairing.paused' THEN 'pause' WHEN e.type = 'enrolment.removed' THEN 'removal'
            WHEN e.type = 'enrolment.left' THEN 'leave' ELSE 'end' END AS cause,
       CASE WHEN p.type = 'pairing.ended' AND p.payload->>'ended_by' IN ('mentor', 'mentee', 'coordinator', 'admin',
                                                                         'system') THEN p.payload->>'ended_by'
            WHEN p.actor LIKE 'admin:%' THEN 'admin'
            WHEN p.actor = 'user:' || (p.payload->>'mentee_user_id') THEN 'mentee'
            WHEN p.actor = 'user:' || mp.user_id::text THEN 'mentor'
            ELSE 'coordinator' END AS cancelled_by
FROM sessions s
JOIN bookings b ON b.id = s.booking_id
JOIN booking_series bs ON bs.id = b.series_id
JOIN mentor_profiles mp ON mp.id = s.mentor_profile_id
JOIN outbox_events c ON c.aggregate_id = bs.id AND c.type = 'booking_series.cancelled'
                    AND (c.payload->>'cancelled_from')::timestamptz = s.cancelled_at
JOIN outbox_events p ON p.created_at = c.created_at AND p.type IN ('pairing.paused', 'pairing.ended')
                    AND p.payload->>'mentor_profile_id' = s.mentor_profile_id::text
                    AND p.payload->>'mentee_user_id' = s.mentee_user_id::text
LEFT JOIN outbox_events e ON e.created_at = p.created_at AND e.type IN ('enrolment.removed', 'enrolment.left')
                         AND e.payload->>'programme_id' = p.payload->>'programme_id'
WHERE s.status = 'cancelled' AND s.cancel_cause IS NULL AND s.programme_id IS NOT NULL
ORDER BY s.id, e.type NULLS LAST
"""

# The summaries' cancellation counts, computed again from the view as the analytics worker computes them.
RECOUNT_PAIRINGS = """
UPDATE pairing_tallies t SET
  cancelled = (SELECT count(*) FROM programme_session_outcomes o
               WHERE o.pairing_id = t.pairing_id AND o.status = 'cancelled'),
  cancelled_by_pair = (SELECT count(*) FROM programme_session_outcomes o
                       WHERE o.pairing_id = t.pairing_id AND o.status = 'cancelled'
                         AND o.cancelled_by IN ('mentor', 'mentee') AND coalesce(o.cancel_cause, 'request') = 'request')
"""
RECOUNT_WEEKS = """
INSERT INTO programme_weeks AS w (programme_id, week, cancelled_by_mentor, cancelled_by_mentee, cancelled_by_coordinator,
                                  cancelled_by_admin, cancelled_by_system)
SELECT o.programme_id, o.week, count(*) FILTER (WHERE o.cancelled_by = 'mentor'),
       count(*) FILTER (WHERE o.cancelled_by = 'mentee'), count(*) FILTER (WHERE o.cancelled_by = 'coordinator'),
       count(*) FILTER (WHERE o.cancelled_by = 'admin'),
       count(*) FILTER (WHERE o.cancelled_by = 'system' OR o.cancelled_by IS NULL)
FROM programme_session_outcomes o JOIN programme_tallies t ON t.programme_id = o.programme_id
WHERE o.status = 'cancelled'
GROUP BY o.programme_id, o.week
ON CONFLICT (programme_id, week) DO UPDATE SET
  cancelled_by_mentor = excluded.cancelled_by_mentor, cancelled_by_mentee = excluded.cancelled_by_mentee,
  cancelled_by_coordinator = excluded.cancelled_by_coordinator, cancelled_by_admin = excluded.cancelled_by_admin,
  cancelled_by_system = excluded.cancelled_by_system
"""
WEEK_CHECK = ("held >= 0 AND minutes_held >= 0 AND cancelled_by_mentor >= 0 AND cancelled_by_mentee >= 0 AND "
              "{cancelled} AND no_show_mentee >= 0 AND no_show_mentor >= 0 AND missed >= 0 AND rating_sum >= 0 AND "
              "rating_count >= 0 AND first_sessions >= 0 AND first_session_hours >= 0 AND pairs_started >= 0 AND "
              "pairs_ended >= 0 AND survey_sum >= 0 AND survey_count >= 0")
NEW_WEEK_CHECK = WEEK_CHECK.format(
    cancelled="cancelled_by_coordinator >= 0 AND cancelled_by_admin >= 0 AND cancelled_by_system >= 0")
OLD_WEEK_CHECK = WEEK_CHECK.format(cancelled="cancelled_by_other >= 0")
PAIRING_CHECK = ("held >= 0 AND cancelled >= 0 AND {by_pair}no_shows >= 0 AND missed >= 0 AND rating_sum >= 0 AND "
                 "rating_count >= 0 AND goals_set >= 0 AND goals_done >= 0")


def upgrade() -> None:
    op.add_column('sessions', sa.Column('cancel_cause', sa.String(length=16), nullable=True))
    # A moved meeting's old session: the system's, for the move.
    op.execute("UPDATE sessions s SET cancel_cause = 'reschedule', cancelled_by = 'system' FROM bookings b "
               "WHERE b.id = s.booking_id AND b.status = 'rescheduled' AND s.status = 'cancelled'")
    op.execute(CAUSED_BY_PAIRINGS)
    op.execute("UPDATE sessions s SET cancel_cause = c.cause, cancelled_by = c.cancelled_by FROM caused c "
               "WHERE s.id = c.session_id")
    op.execute("UPDATE booking_series bs SET cancelled_by = c.cancelled_by FROM caused c WHERE bs.id = c.series_id")
    op.execute("DROP TABLE caused")
    op.create_check_constraint(op.f('ck_sessions_cancelled_by_values'), 'sessions', f"cancelled_by IN {WHO}")
    op.create_check_constraint(op.f('ck_sessions_cancel_cause_values'), 'sessions', f"cancel_cause IN {CAUSES}")
    op.create_check_constraint(op.f('ck_sessions_cause_of_a_cancellation'), 'sessions',
                               "cancel_cause IS NULL OR status = 'cancelled'")
    op.create_check_constraint(op.f('ck_booking_series_cancelled_by_values'), 'booking_series',
                               f"cancelled_by IN {WHO}")

    op.execute("DROP VIEW programme_session_outcomes")
    op.execute(SESSION_OUTCOMES)
    for column in ('cancelled_by_coordinator', 'cancelled_by_admin', 'cancelled_by_system'):
        op.add_column('programme_weeks', sa.Column(column, sa.Integer(), server_default='0', nullable=False))
    op.drop_constraint(op.f('ck_programme_weeks_counts_non_negative'), 'programme_weeks', type_='check')
    op.drop_column('programme_weeks', 'cancelled_by_other')
    op.create_check_constraint(op.f('ck_programme_weeks_counts_non_negative'), 'programme_weeks', NEW_WEEK_CHECK)
    op.add_column('pairing_tallies', sa.Column('cancelled_by_pair', sa.Integer(), server_default='0',
                                               nullable=False))
    op.drop_constraint(op.f('ck_pairing_tallies_counts_non_negative'), 'pairing_tallies', type_='check')
    op.create_check_constraint(op.f('ck_pairing_tallies_counts_non_negative'), 'pairing_tallies',
                               PAIRING_CHECK.format(by_pair="cancelled_by_pair >= 0 AND "))
    op.execute("UPDATE programme_weeks SET cancelled_by_mentor = 0, cancelled_by_mentee = 0")
    op.execute(RECOUNT_WEEKS)
    op.execute(RECOUNT_PAIRINGS)


def downgrade() -> None:
    op.drop_constraint(op.f('ck_pairing_tallies_counts_non_negative'), 'pairing_tallies', type_='check')
    op.drop_column('pairing_tallies', 'cancelled_by_pair')
    op.create_check_constraint(op.f('ck_pairing_tallies_counts_non_negative'), 'pairing_tallies',
                               PAIRING_CHECK.format(by_pair=""))
    op.add_column('programme_weeks', sa.Column('cancelled_by_other', sa.Integer(), server_default='0',
                                               nullable=False))
    op.execute("UPDATE programme_weeks SET cancelled_by_other = cancelled_by_coordinator + cancelled_by_admin "
               "+ cancelled_by_system")
    op.drop_constraint(op.f('ck_programme_weeks_counts_non_negative'), 'programme_weeks', type_='check')
    for column in ('cancelled_by_coordinator', 'cancelled_by_admin', 'cancelled_by_system'):
        op.drop_column('programme_weeks', column)
    op.create_check_constraint(op.f('ck_programme_weeks_counts_non_negative'), 'programme_weeks', OLD_WEEK_CHECK)
    op.execute("DROP VIEW programme_session_outcomes")
    op.execute(SESSION_OUTCOMES.replace("s.cancel_cause, ", "").replace(
        "LEFT JOIN reviews r ON r.session_id = s.id",
        "LEFT JOIN reviews r ON r.session_id = s.id LEFT JOIN bookings b ON b.id = s.booking_id "
        "LEFT JOIN booking_series bs ON bs.id = b.series_id").replace(
        "AND s.cancel_cause IS DISTINCT FROM 'reschedule'",
        "AND NOT (s.status = 'cancelled' AND (s.cancelled_by IS NOT DISTINCT FROM 'system' "
        "OR coalesce(s.cancelled_at >= bs.cancelled_from, false)))"))
    op.drop_constraint(op.f('ck_booking_series_cancelled_by_values'), 'booking_series', type_='check')
    for name in ('cause_of_a_cancellation', 'cancel_cause_values', 'cancelled_by_values'):
        op.drop_constraint(op.f(f'ck_sessions_{name}'), 'sessions', type_='check')
    op.drop_column('sessions', 'cancel_cause')
