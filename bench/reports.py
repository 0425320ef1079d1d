"""``report_scaling_ratio``: the programme dashboard's API call (``GET /programmes/{id}/report``, the last twelve weeks)
p50 for a programme of 5,000 pairs and 200,000 sessions over one of 50 pairs and 2,000 sessions, in one run.

Both programmes are written with set-based SQL: mentors (2.5 pairs each) with their programme listing, mentees, their
participations, pairings (most active, some paused, ended or proposed) and forty rounds of one-hour sessions per pair
over the last ten weeks (80 % held, the rest cancelled by the mentee, a mentee's no-show or missed), every session
with its booking. The summaries are then built as an operator would after a migration, with the analytics handler's
own rebuild (``rebuild_s``, for information); the dashboard reads them, not the sessions.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench import seed
from bench.figures import Config, Rep
from bench.load import run_load
from bench.stack import Stack

ROUNDS = 40  # sessions per pair (over two agreements of 20)
ROUND_HOURS = 40  # between a pair's sessions: ten weeks of them


def _programme(stack: Stack, pairs: int) -> tuple[uuid.UUID, seed.Mentor]:
    """A running programme of ``pairs`` pairings and their sessions; its coordinator."""
    mentor_count = max(1, pairs * 2 // 5)
    mentors = seed.mentors(stack.engine, mentor_count)
    mentees = seed.users(stack.engine, pairs)
    coordinator = seed.mentors(stack.engine, 1)[0]
    programme_id = uuid.uuid4()
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=ROUNDS * ROUND_HOURS + 24)
    with stack.engine.begin() as conn:
        conn.execute(text("INSERT INTO programmes (id, name, status) VALUES (:id, 'Bench cohort', 'running')"),
                     {"id": programme_id})
        conn.execute(text("INSERT INTO programme_coordinators (programme_id, user_id) VALUES (:p, :u)"),
                     {"p": programme_id, "u": coordinator.user_id})
        conn.execute(text("UPDATE listings SET programme_id = :p WHERE id = ANY(:ids)"),
                     {"p": programme_id, "ids": [m.listing_id for m in mentors]})
        conn.execute(text("""
            CREATE TEMPORARY TABLE bench_pairs ON COMMIT DROP AS
            SELECT n AS pair, gen_random_uuid() AS id, gen_random_uuid() AS mentor_part,
                   gen_random_uuid() AS mentee_part,
                   m.user_id AS mentor_user, m.profile_id, m.listing_id, (:mentees)[n + 1] AS mentee
            FROM generate_series(0, :pairs - 1) AS n
            JOIN unnest(CAST(:users AS uuid[]), CAST(:profiles AS uuid[]), CAST(:listings AS uuid[]))
                 WITH ORDINALITY AS m(user_id, profile_id, listing_id, k) ON m.k = 1 + n % :mentor_count
        """), {"pairs": pairs, "mentees": mentees, "mentor_count": mentor_count,
               "users": [m.user_id for m in mentors], "profiles": [m.profile_id for m in mentors],
               "listings": [m.listing_id for m in mentors]})
        conn.execute(text("""
            INSERT INTO programme_participants (id, programme_id, user_id, role, status, capacity)
            SELECT DISTINCT ON (mentor_user) mentor_part, :p, mentor_user, 'mentor', 'active', 3 FROM bench_pairs
        """), {"p": programme_id})
        conn.execute(text("""
            UPDATE bench_pairs b SET mentor_part = pp.id FROM programme_participants pp
            WHERE pp.programme_id = :p AND pp.user_id = b.mentor_user
        """), {"p": programme_id})
        conn.execute(text("""
            INSERT INTO programme_participants (id, programme_id, user_id, role, status)
            SELECT mentee_part, :p, mentee, 'mentee', 'active' FROM bench_pairs
        """), {"p": programme_id})
        conn.execute(text("""
            INSERT INTO pairings (id, programme_id, mentor_participant_id, mentee_participant_id, mentor_profile_id,
                                  mentee_user_id, listing_id, status, cadence_weeks, session_minutes, session_count,
                                  created_at, ended_at, ended_by)
            SELECT id, :p, mentor_part, mentee_part, profile_id, mentee, listing_id,
                   CASE pair % 20 WHEN 0 THEN 'ended' WHEN 1 THEN 'paused' WHEN 2 THEN 'proposed' ELSE 'active' END,
                   1, 60, 20, CAST(:start AS timestamptz) - interval '1 day',
                   CASE WHEN pair % 20 = 0 THEN now() - interval '1 day' END,
                   CASE WHEN pair % 20 = 0 THEN 'coordinator' END
            FROM bench_pairs
        """), {"p": programme_id, "start": start})
        conn.execute(text("""
            CREATE TEMPORARY TABLE new_bookings ON COMMIT DROP AS
            SELECT gen_random_uuid() AS id, b.listing_id, b.profile_id, b.mentee,
                   CAST(:start AS timestamptz) + (r * :round_hours + b.pair / :mentor_count) * interval '1 hour'
                       AS start_time,
                   (r * 7 + b.pair) % 20 AS fate
            FROM bench_pairs b CROSS JOIN generate_series(0, :rounds - 1) AS r
        """), {"start": start, "round_hours": ROUND_HOURS, "mentor_count": mentor_count, "rounds": ROUNDS})
        conn.execute(text("""
            INSERT INTO bookings (id, listing_id, mentor_profile_id, mentee_user_id, start_time, end_time,
                                  status, price_cents, currency, decided_at)
            SELECT id, listing_id, profile_id, mentee, start_time, start_time + interval '1 hour', 'accepted',
                   5000, 'USD', start_time - interval '2 days'
            FROM new_bookings
        """))
        conn.execute(text("""
            INSERT INTO sessions (id, kind, booking_id, listing_id, programme_id, mentor_profile_id, mentee_user_id,
                                  start_time, end_time, status, started_at, completed_at, completed_by, cancelled_at,
                                  cancelled_by)
            SELECT gen_random_uuid(), 'individual', id, listing_id, :p, profile_id, mentee, start_time,
                   start_time + interval '1 hour',
                   CASE WHEN fate < 16 THEN 'completed' WHEN fate < 18 THEN 'cancelled'
                        WHEN fate = 18 THEN 'mentee_no_show' ELSE 'missed' END,
                   CASE WHEN fate < 16 THEN start_time END, CASE WHEN fate < 16 THEN start_time + interval '1 hour' END,
                   CASE WHEN fate < 16 THEN 'mentor' END,
                   CASE WHEN fate IN (16, 17) THEN start_time - interval '1 day' END,
                   CASE WHEN fate IN (16, 17) THEN 'mentee' END
            FROM new_bookings
        """), {"p": programme_id})
    with stack.engine.connect() as conn:
        conn.execute(text("ANALYZE sessions")), conn.execute(text("ANALYZE pairings"))
    return programme_id, coordinator


def _rebuild(stack: Stack, programme_id: uuid.UUID) -> float:
    from workflows.reports import tallies  # noqa: PLC0415 - after the run's environment

    began = time.perf_counter()
    with Session(stack.engine) as db, db.begin():
        tallies.rebuild(db, programme_id)
    return time.perf_counter() - began


def report_scaling(stack: Stack, cfg: Config) -> list[Rep]:
    small_pairs, large_pairs = cfg.report_pairs
    small, small_coordinator = _programme(stack, small_pairs)
    large, large_coordinator = _programme(stack, large_pairs)
    _rebuild(stack, small)
    rebuild_s = _rebuild(stack, large)
    with stack.engine.connect() as conn:
        sessions = conn.execute(text("SELECT count(*) FROM sessions WHERE programme_id = :p"), {"p": large}).scalar()
    cfg.progress(f"report_scaling: {large_pairs} pairs, {sessions} sessions; rebuilt in {rebuild_s:.1f} s")
    _, base = stack.shared_api()

    def p50(programme_id: uuid.UUID, coordinator: seed.Mentor) -> float:
        path = f"/api/v1/programmes/{programme_id}/report"
        result = run_load(base, [path], seconds=cfg.seconds, connections=1, threads=1,
                          headers=coordinator.headers())
        if result.ok() == 0 or set(result.statuses) != {200}:
            raise RuntimeError(f"GET {path} answered {result.statuses}")
        return result.p50_ms

    reps = []
    for rep in range(cfg.reps):
        small_ms, large_ms = p50(small, small_coordinator), p50(large, large_coordinator)
        cfg.progress(f"report rep {rep}: p50 {small_ms:.2f} ms ({small_pairs} pairs) and {large_ms:.2f} ms "
                     f"({large_pairs} pairs)")
        reps.append({"p50_small_ms": round(small_ms, 3), "p50_large_ms": round(large_ms, 3),
                     "rebuild_s": round(rebuild_s, 2), "ratio": round(large_ms / small_ms, 3)})
    return reps
