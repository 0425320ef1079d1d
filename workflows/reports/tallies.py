"""The summaries a programme's dashboard reads (``models.reports``), kept by the ``analytics.programmes`` outbox
handler and rebuilt from the source rows by :func:`rebuild`.

Each batch finds what its events touched (pairings, and a programme's weeks), then computes those again from the
source rows with the statements :func:`rebuild` runs for a whole programme: what is kept always equals what a
rebuild gives, whatever order events come in. Batches of one programme take its advisory lock first, so two
workers never compute one week from snapshots that miss each other's rows.

What counts is the view ``programme_session_outcomes`` (docs/PRIMER.md, "Programme reports"): a programme's
individual sessions whose time came or that someone cancelled, a move by agreement aside; each for the latest pairing
of its mentor and mentee in the programme made before it started (none when it started before they were paired), a
cancellation under who made it. Weeks are Mondays, UTC, by the session's start.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from infra.sql import statuses
from models import (
    CancelCause,
    CancelledBy,
    GoalStatus,
    MentorshipSession,
    OutboxEvent,
    Pairing,
    PairingGoal,
    PairingStatus,
    PairingTally,
    Programme,
    ProgrammeTally,
    ProgrammeWeek,
    Review,
    SessionStatus,
)
from models.reports import PAIRING_COUNTS, PROGRAMME_COUNTS, WEEK_COUNTS
from workflows.events import GOAL_EVENTS, PAIRING_EVENTS, EventType

HANDLER = "analytics.programmes"
SESSION_EVENTS = frozenset((EventType.SESSION_COMPLETED, EventType.SESSION_CANCELLED, EventType.SESSION_MISSED,
                            EventType.SESSION_NO_SHOW, EventType.REVIEW_CREATED))
HANDLED = sorted(SESSION_EVENTS | PAIRING_EVENTS | GOAL_EVENTS)
UPSERT_ROWS = 1000  # a statement's rows: 17 parameters each, well under PostgreSQL's 65,535


def week_of(moment: datetime) -> date:
    """The Monday (UTC) of the week a moment falls in."""
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


# Sessions' outcomes come from the view ``programme_session_outcomes`` (migration 0056): a programme's individual
# sessions whose time came or that someone cancelled (a move by agreement aside), each with its week, its pairing (the
# pair's latest pairing made before it started; none when it started before they were paired), who cancelled it and
# why, and its review's rating. The pair's own cancellations (``by_pair``) are those the mentor or the mentee asked for,
# or whose cause was not recorded: a pause, an end or a leave is not one, for the pairs at risk.
_OUTCOMES = {"completed": SessionStatus.COMPLETED, "cancelled": SessionStatus.CANCELLED, "missed": SessionStatus.MISSED,
             "mentee_no_show": SessionStatus.MENTEE_NO_SHOW, "mentor_no_show": SessionStatus.MENTOR_NO_SHOW}
_BY = {f"by_{who.value}": who for who in CancelledBy}
_PAIRING_TALLIES = statuses("""
    WITH chosen AS (SELECT p.* FROM pairings p WHERE p.id = ANY(:ids)),
    sessions_of AS (
        SELECT o.pairing_id,
               count(*) FILTER (WHERE o.status = :completed) AS held,
               count(*) FILTER (WHERE o.status = :cancelled) AS cancelled,
               count(*) FILTER (WHERE o.status = :cancelled AND o.cancelled_by IN (:by_mentor, :by_mentee)
                                  AND coalesce(o.cancel_cause, :request) = :request) AS cancelled_by_pair,
               count(*) FILTER (WHERE o.status IN (:mentee_no_show, :mentor_no_show)) AS no_shows,
               count(*) FILTER (WHERE o.status = :missed) AS missed,
               min(o.start_time) FILTER (WHERE o.status = :completed) AS first_held_at,
               max(o.start_time) FILTER (WHERE o.status = :completed) AS last_held_at,
               coalesce(sum(o.rating), 0) AS rating_sum, count(o.rating) AS rating_count
        FROM programme_session_outcomes o
        JOIN chosen c ON c.id = o.pairing_id AND c.programme_id = o.programme_id
                     AND c.mentor_profile_id = o.mentor_profile_id AND c.mentee_user_id = o.mentee_user_id
        GROUP BY o.pairing_id),
    goals_of AS (
        SELECT g.pairing_id, count(*) AS goals_set, count(*) FILTER (WHERE g.status = :done) AS goals_done
        FROM pairing_goals g WHERE g.pairing_id = ANY(:ids) GROUP BY g.pairing_id)
    SELECT c.id AS pairing_id, c.programme_id, c.status, c.created_at AS paired_at,
           c.match_run_id IS NOT NULL AS from_run, c.match_rank,
           coalesce(s.held, 0) AS held, coalesce(s.cancelled, 0) AS cancelled,
           coalesce(s.cancelled_by_pair, 0) AS cancelled_by_pair, coalesce(s.no_shows, 0) AS no_shows,
           coalesce(s.missed, 0) AS missed, s.first_held_at, s.last_held_at,
           coalesce(s.rating_sum, 0) AS rating_sum, coalesce(s.rating_count, 0) AS rating_count,
           coalesce(g.goals_set, 0) AS goals_set, coalesce(g.goals_done, 0) AS goals_done,
           c.ended_at
    FROM chosen c LEFT JOIN sessions_of s ON s.pairing_id = c.id LEFT JOIN goals_of g ON g.pairing_id = c.id
""", **_OUTCOMES, by_mentor=CancelledBy.MENTOR, by_mentee=CancelledBy.MENTEE, request=CancelCause.REQUEST,
   done=GoalStatus.DONE)
_WEEK_ROWS = statuses("""
    WITH wanted AS (SELECT week, week::timestamp AT TIME ZONE 'UTC' AS since,
                           (week + 7)::timestamp AT TIME ZONE 'UTC' AS until
                    FROM unnest(CAST(:weeks AS date[])) AS week),
    sessions_by_week AS (
        SELECT w.week,
               count(*) FILTER (WHERE o.status = :completed) AS held,
               coalesce(sum(o.minutes) FILTER (WHERE o.status = :completed), 0) AS minutes_held,
               count(*) FILTER (WHERE o.status = :cancelled AND o.cancelled_by = :by_mentor) AS cancelled_by_mentor,
               count(*) FILTER (WHERE o.status = :cancelled AND o.cancelled_by = :by_mentee) AS cancelled_by_mentee,
               count(*) FILTER (WHERE o.status = :cancelled
                                  AND o.cancelled_by = :by_coordinator) AS cancelled_by_coordinator,
               count(*) FILTER (WHERE o.status = :cancelled AND o.cancelled_by = :by_admin) AS cancelled_by_admin,
               count(*) FILTER (WHERE o.status = :cancelled
                                  AND coalesce(o.cancelled_by, :by_system) = :by_system) AS cancelled_by_system,
               count(*) FILTER (WHERE o.status = :mentee_no_show) AS no_show_mentee,
               count(*) FILTER (WHERE o.status = :mentor_no_show) AS no_show_mentor,
               count(*) FILTER (WHERE o.status = :missed) AS missed,
               coalesce(sum(o.rating), 0) AS rating_sum, count(o.rating) AS rating_count
        FROM wanted w JOIN programme_session_outcomes o ON o.programme_id = :programme_id
                                                       AND o.start_time >= w.since AND o.start_time < w.until
        GROUP BY w.week),
    firsts AS (
        SELECT w.week, count(*) AS first_sessions,
               sum(extract(epoch FROM t.first_held_at - t.paired_at)::bigint / 3600) AS first_session_hours
        FROM wanted w JOIN pairing_tallies t ON t.programme_id = :programme_id
                                            AND t.first_held_at >= w.since AND t.first_held_at < w.until
        GROUP BY w.week),
    started AS (
        SELECT w.week, count(*) AS pairs_started
        FROM wanted w JOIN pairings p ON p.programme_id = :programme_id
                                     AND p.created_at >= w.since AND p.created_at < w.until
        GROUP BY w.week),
    ended AS (
        SELECT w.week, count(*) AS pairs_ended
        FROM wanted w JOIN pairings p ON p.programme_id = :programme_id
                                     AND p.ended_at >= w.since AND p.ended_at < w.until
        GROUP BY w.week),
    surveys AS (
        SELECT w.week, sum(a.rating) AS survey_sum, count(*) AS survey_count
        FROM wanted w JOIN pairing_surveys a ON a.answered_at >= w.since AND a.answered_at < w.until
        JOIN pairings p ON p.id = a.pairing_id AND p.programme_id = :programme_id
        GROUP BY w.week)
    SELECT w.week, coalesce(held, 0) AS held, coalesce(minutes_held, 0) AS minutes_held,
           coalesce(cancelled_by_mentor, 0) AS cancelled_by_mentor,
           coalesce(cancelled_by_mentee, 0) AS cancelled_by_mentee,
           coalesce(cancelled_by_coordinator, 0) AS cancelled_by_coordinator,
           coalesce(cancelled_by_admin, 0) AS cancelled_by_admin,
           coalesce(cancelled_by_system, 0) AS cancelled_by_system, coalesce(no_show_mentee, 0) AS no_show_mentee,
           coalesce(no_show_mentor, 0) AS no_show_mentor, coalesce(missed, 0) AS missed,
           coalesce(rating_sum, 0) AS rating_sum, coalesce(rating_count, 0) AS rating_count,
           coalesce(first_sessions, 0) AS first_sessions, coalesce(first_session_hours, 0) AS first_session_hours,
           coalesce(pairs_started, 0) AS pairs_started, coalesce(pairs_ended, 0) AS pairs_ended,
           coalesce(survey_sum, 0) AS survey_sum, coalesce(survey_count, 0) AS survey_count
    FROM wanted w LEFT JOIN sessions_by_week USING (week) LEFT JOIN firsts USING (week)
    LEFT JOIN started USING (week) LEFT JOIN ended USING (week) LEFT JOIN surveys USING (week)
""", **_OUTCOMES, **_BY)
_PROGRAMME_TALLY = statuses("""
    SELECT count(*) FILTER (WHERE status = :proposed) AS proposed,
           count(*) FILTER (WHERE status = :active) AS active,
           count(*) FILTER (WHERE status = :paused) AS paused, count(*) FILTER (WHERE status = :ended) AS ended,
           count(*) FILTER (WHERE from_run) AS from_run, count(*) FILTER (WHERE from_run AND match_rank <= 3) AS top3,
           coalesce(sum(goals_set), 0) AS goals_set, coalesce(sum(goals_done), 0) AS goals_done
    FROM pairing_tallies WHERE programme_id = :programme_id
""", **{status.name.lower(): status for status in PairingStatus})


def _lock(db: Session, programme_ids: Iterable[uuid.UUID]) -> None:
    for programme_id in sorted(set(programme_ids)):
        db.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                   {"key": f"programme-reports:{programme_id}"})


def refresh_pairings(db: Session, pairing_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, set[date]]:
    """Compute these pairings' tallies again; the weeks of each programme whose rows they feed (when they were
    paired and ended, their first held session before and after, their surveys)."""
    touched: dict[uuid.UUID, set[date]] = defaultdict(set)
    if not pairing_ids:
        return touched
    ids = sorted(pairing_ids)
    for programme_id, first in db.execute(select(PairingTally.programme_id, PairingTally.first_held_at)
                                          .where(PairingTally.pairing_id.in_(ids))):
        if first is not None:
            touched[programme_id].add(week_of(first))
    rows = [dict(row) for row in db.execute(_PAIRING_TALLIES, {"ids": ids}).mappings()]
    for row in rows:
        weeks = touched[row["programme_id"]]
        weeks.update(week_of(moment) for moment in (row["paired_at"], row.pop("ended_at"), row["first_held_at"])
                     if moment is not None)
    for programme_id, answered in db.execute(text(
            "SELECT p.programme_id, a.answered_at FROM pairing_surveys a JOIN pairings p ON p.id = a.pairing_id "
            "WHERE a.pairing_id = ANY(:ids)"), {"ids": ids}):
        touched[programme_id].add(week_of(answered))
    kept = ("status", "paired_at", "from_run", "match_rank", "first_held_at", "last_held_at", *PAIRING_COUNTS)
    for start in range(0, len(rows), UPSERT_ROWS):
        statement = insert(PairingTally).values(rows[start:start + UPSERT_ROWS])
        db.execute(statement.on_conflict_do_update(index_elements=[PairingTally.pairing_id],
                                                   set_={name: statement.excluded[name] for name in kept}))
    return touched


def refresh_weeks(db: Session, programme_id: uuid.UUID, weeks: Collection[date]) -> None:
    """Compute these weeks of the programme again from the sessions, reviews, pairings, their tallies and surveys."""
    if not weeks:
        return
    rows = [{"programme_id": programme_id, **row} for row in db.execute(_WEEK_ROWS, {
        "weeks": sorted(weeks), "programme_id": programme_id}).mappings()]
    statement = insert(ProgrammeWeek).values(rows)
    db.execute(statement.on_conflict_do_update(index_elements=[ProgrammeWeek.programme_id, ProgrammeWeek.week],
                                               set_={name: statement.excluded[name] for name in WEEK_COUNTS}))


def refresh_programme(db: Session, programme_id: uuid.UUID) -> None:
    """The programme's pairs by status, match quality and goals: the sums of its pairings' tallies."""
    row = db.execute(_PROGRAMME_TALLY, {"programme_id": programme_id}).mappings().one()
    statement = insert(ProgrammeTally).values(programme_id=programme_id, **row)
    db.execute(statement.on_conflict_do_update(
        index_elements=[ProgrammeTally.programme_id],
        set_={**{name: statement.excluded[name] for name in PROGRAMME_COUNTS}, "updated_at": text("now()")}))


def _session_keys(db: Session, session_ids: Collection[uuid.UUID]) -> list[Any]:
    if not session_ids:
        return []
    return list(db.execute(select(MentorshipSession.programme_id, MentorshipSession.mentor_profile_id,
                                  MentorshipSession.mentee_user_id, MentorshipSession.start_time)
                           .where(MentorshipSession.id.in_(sorted(session_ids)),
                                  MentorshipSession.programme_id.is_not(None))))


def handle_events(db: Session, events: Sequence[OutboxEvent]) -> None:
    """The handler: the pairings and weeks the batch's events touched, computed again, then their programmes'
    totals."""
    # What each event is about, read from the rows by its aggregate (a session, a review, a pairing, a goal).
    of = defaultdict(set)
    for event in events:
        of[event.type.partition(".")[0]].add(event.aggregate_id)
    session_ids = of["session"] | set(db.scalars(select(Review.session_id).where(Review.id.in_(of["review"]))))
    sessions = _session_keys(db, session_ids)
    pairing_ids = of["pairing"] | set(db.scalars(select(PairingGoal.pairing_id).where(
        PairingGoal.id.in_(of["goal"]))))
    programmes = {key.programme_id for key in sessions} | set(db.scalars(select(Pairing.programme_id).where(
        Pairing.id.in_(pairing_ids))))
    if not programmes:
        return
    _lock(db, programmes)
    weeks: dict[uuid.UUID, set[date]] = defaultdict(set)
    for key in sessions:
        weeks[key.programme_id].add(week_of(key.start_time))
    if sessions:
        pairs = {(key.programme_id, key.mentor_profile_id, key.mentee_user_id) for key in sessions}
        pairing_ids.update(db.scalars(text(
            "SELECT id FROM pairings WHERE (programme_id, mentor_profile_id, mentee_user_id) IN "
            "(SELECT * FROM unnest(CAST(:programmes AS uuid[]), CAST(:mentors AS uuid[]), CAST(:mentees AS uuid[])))"),
            {"programmes": [pair[0] for pair in pairs], "mentors": [pair[1] for pair in pairs],
             "mentees": [pair[2] for pair in pairs]}))
    if pairing_ids:
        # A pair's pairings share its sessions (each owns those from when it was made): all of them count again.
        pairing_ids.update(db.scalars(text(
            "SELECT p.id FROM pairings p JOIN pairings q ON q.programme_id = p.programme_id "
            "AND q.mentor_profile_id = p.mentor_profile_id AND q.mentee_user_id = p.mentee_user_id "
            "WHERE q.id = ANY(:ids)"), {"ids": sorted(pairing_ids)}))
    for programme_id, more in refresh_pairings(db, pairing_ids).items():
        weeks[programme_id].update(more)
    for programme_id in sorted(programmes | set(weeks)):
        refresh_weeks(db, programme_id, weeks[programme_id])
        refresh_programme(db, programme_id)


def rebuild(db: Session, programme_id: uuid.UUID) -> int:
    """A programme's summaries from its source rows alone (an operator's ``celery call analytics.programmes``):
    every pairing's tally, every week that has anything, the totals. Returns how many weeks it wrote."""
    _lock(db, [programme_id])
    if db.get(Programme, programme_id) is None:
        return 0
    db.execute(delete(ProgrammeWeek).where(ProgrammeWeek.programme_id == programme_id))
    db.execute(delete(PairingTally).where(PairingTally.programme_id == programme_id))
    pairing_ids = list(db.scalars(text("SELECT id FROM pairings WHERE programme_id = :programme_id"),
                                  {"programme_id": programme_id}))
    weeks = refresh_pairings(db, pairing_ids)[programme_id]
    weeks.update(db.scalars(text("SELECT DISTINCT week FROM programme_session_outcomes "
                                 "WHERE programme_id = :programme_id"), {"programme_id": programme_id}))
    refresh_weeks(db, programme_id, weeks)
    refresh_programme(db, programme_id)
    return len(weeks)
