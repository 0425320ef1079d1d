"""``match_cohort_s``, ``match_scaling_ratio`` and ``match_quality_ratio``: a whole match run over a programme of
1,000 mentees and 300 mentors (capacities 1 to 5), timed part by part, beside one of 100 mentees and 30 mentors.

Everyone's intake is finished (a mentor's weekday hours given), as a run takes no one else. Every mentor has
weekday hours in their own zone (8 zones), a day off in the four weeks, 50 accepted bookings and 200
busy times from their own calendar in them, three skills and a department; every mentee has three to five weekly
windows in their own zone (8 zones), three skills wanted and a department. The settings: skills shared (weight 2),
never the same department (a hard rule), free time in common (3), timezones (1), room left (1). The run is the
matching worker's own steps, in this process, on the bench database: the cohort read with every mentor's free time
from the slot engine (``free_s``), the overlaps and scores (``score_s``), the exact solve (``solve_s``: the floor,
the solver alone on the same score matrix) and the result kept with its drafts and candidates (``save_s``).
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench import seed
from bench.figures import Config, Rep
from bench.stack import Stack

ZONES = ("UTC", "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "Asia/Kolkata",
         "Asia/Tokyo", "Australia/Sydney")
SKILLS = ("python", "go", "sql", "design", "sales", "leadership", "product", "data", "security", "writing")
DEPARTMENTS = ("Sales", "Engineering", "Finance", "Marketing", "Operations")
BOOKINGS, BUSY = 50, 200


def _cohort(stack: Stack, mentees: int, mentors: int) -> uuid.UUID:
    """A running programme with its intake, settings and people as the module's docstring says; its id."""
    programme, wants, mentee_dept, mentor_dept = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    mentor_users, mentee_users = seed.users(stack.engine, mentors), seed.users(stack.engine, mentees)
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    settings = {"criteria": [
        {"kind": "shared", "mentee_question_id": str(wants), "mentor_question_id": None, "weight": 2.0,
         "label": "What do you want to learn?"},
        {"kind": "differ", "mentee_question_id": str(mentee_dept), "mentor_question_id": str(mentor_dept),
         "weight": 0.0, "label": "Department"}]}
    with stack.engine.begin() as conn:
        conn.execute(text("INSERT INTO programmes (id, name, status, matching) VALUES (:id, 'Bench match', "
                          "'running', CAST(:matching AS jsonb))"), {"id": programme, "matching": json.dumps(settings)})
        conn.execute(text("""
            INSERT INTO questions (id, programme_id, audience, position, kind, label, options, required) VALUES
            (:wants, :p, 'mentee', 0, 'multiple', 'What do you want to learn?', :skills, false),
            (:md, :p, 'mentee', 1, 'single', 'Department', :depts, false),
            (:rd, :p, 'mentor', 0, 'single', 'Department', :depts, false)
        """), {"wants": wants, "md": mentee_dept, "rd": mentor_dept, "p": programme, "skills": list(SKILLS),
               "depts": list(DEPARTMENTS)})
        skill_ids = [conn.execute(text("INSERT INTO skills (id, name) VALUES (gen_random_uuid(), :n) ON CONFLICT "
                                       "(name) DO UPDATE SET name = EXCLUDED.name RETURNING id"), {"n": n}).scalar_one()
                     for n in SKILLS]
        conn.execute(text("""
            CREATE TEMPORARY TABLE bench_mentors ON COMMIT DROP AS
            SELECT u AS user_id, k, gen_random_uuid() AS profile_id, gen_random_uuid() AS listing_id,
                   gen_random_uuid() AS participant_id, (CAST(:zones AS text[]))[1 + (k - 1) % 8] AS zone
            FROM unnest(CAST(:users AS uuid[])) WITH ORDINALITY AS m(u, k)
        """), {"users": mentor_users, "zones": list(ZONES)})
        conn.execute(text("INSERT INTO mentor_profiles (id, user_id, headline, timezone, public) "
                          "SELECT profile_id, user_id, 'Mentor', zone, false FROM bench_mentors"))
        conn.execute(text("""
            INSERT INTO mentor_profile_skills (mentor_profile_id, skill_id)
            SELECT profile_id, (CAST(:skills AS uuid[]))[1 + (k * 3 + j) % 10]
            FROM bench_mentors, generate_series(0, 2) j
        """), {"skills": skill_ids})
        conn.execute(text("""
            INSERT INTO listings (id, programme_id, mentor_profile_id, skill_id, title, slug, duration_minutes,
                                  price_cents, currency, kind, max_days_ahead)
            SELECT listing_id, :p, profile_id, :skill, 'Bench match', 'bench-match-' || listing_id, 60, 0, 'USD',
                   'individual', 730 FROM bench_mentors
        """), {"p": programme, "skill": skill_ids[0]})
        conn.execute(text("""
            INSERT INTO programme_participants (id, programme_id, user_id, role, status, capacity, intake_answers,
                                                intake_answered_at, intake_finished_at)
            SELECT participant_id, :p, user_id, 'mentor', 'active', 1 + k % 5,
                   jsonb_build_array(jsonb_build_object('question_id', CAST(:rd AS text), 'label', 'Department',
                                                        'kind', 'single',
                                                        'value', (CAST(:depts AS text[]))[1 + k % 5])),
                   now(), now()
            FROM bench_mentors
        """), {"p": programme, "rd": str(mentor_dept), "depts": list(DEPARTMENTS)})
        # Weekday hours in their own zone, six to eight hours from 07:00 to 10:00; a day off in the four weeks.
        conn.execute(text("""
            INSERT INTO availability_windows (id, mentor_profile_id, weekday, start_minute, end_minute)
            SELECT gen_random_uuid(), profile_id, d, 420 + (k % 4) * 60, 420 + (k % 4) * 60 + 360 + (k % 3) * 60
            FROM bench_mentors, generate_series(0, 4) d
        """))
        conn.execute(text("""
            INSERT INTO time_off (id, mentor_profile_id, start_time, end_time, note)
            SELECT gen_random_uuid(), profile_id, CAST(:start AS timestamptz) + (k % 26) * interval '1 day',
                   CAST(:start AS timestamptz) + (k % 26 + 1) * interval '1 day', 'Away' FROM bench_mentors
        """), {"start": start})
        # Their own calendar: 200 busy times of 30 minutes, spread over the four weeks.
        conn.execute(text("""
            INSERT INTO calendar_connections (id, mentor_profile_id, kind, host, credentials)
            SELECT listing_id, profile_id, 'ics', 'calendar.example.com', 'sealed' FROM bench_mentors
        """))
        conn.execute(text("""
            INSERT INTO calendar_sources (id, connection_id, mentor_profile_id, href, name)
            SELECT participant_id, listing_id, profile_id, 'https://calendar.example.com/busy.ics', 'Busy'
            FROM bench_mentors
        """))
        conn.execute(text("""
            INSERT INTO busy_intervals (mentor_profile_id, source_id, start_time, end_time)
            SELECT profile_id, participant_id,
                   CAST(:start AS timestamptz) + (j * 201 + k * 17) * interval '1 minute',
                   CAST(:start AS timestamptz) + (j * 201 + k * 17 + 30) * interval '1 minute'
            FROM bench_mentors, generate_series(0, :busy - 1) j
        """), {"start": start, "busy": BUSY})
        # Mentees: their zone, three skills, a department, three to five weekly windows (evenings, lunch, Saturday).
        conn.execute(text("""
            INSERT INTO programme_participants (id, programme_id, user_id, role, status, timezone, intake_answers,
                                                intake_answered_at, intake_finished_at)
            SELECT gen_random_uuid(), :p, u, 'mentee', 'active', (CAST(:zones AS text[]))[1 + (k * 3) % 8],
                   jsonb_build_array(
                       jsonb_build_object('question_id', CAST(:wants AS text), 'label', 'What do you want to learn?',
                                          'kind', 'multiple', 'value', jsonb_build_array(
                                              (CAST(:skills AS text[]))[1 + k % 10],
                                              (CAST(:skills AS text[]))[1 + (k + 3) % 10],
                                              (CAST(:skills AS text[]))[1 + (k + 7) % 10])),
                       jsonb_build_object('question_id', CAST(:md AS text), 'label', 'Department', 'kind', 'single',
                                          'value', (CAST(:depts AS text[]))[1 + (k * 7) % 5])),
                   now(), now()
            FROM unnest(CAST(:users AS uuid[])) WITH ORDINALITY AS m(u, k)
        """), {"p": programme, "users": mentee_users, "zones": list(ZONES), "wants": str(wants),
               "md": str(mentee_dept), "skills": list(SKILLS), "depts": list(DEPARTMENTS)})
        conn.execute(text("""
            INSERT INTO participant_availability (id, participant_id, weekday, start_minute, end_minute)
            SELECT gen_random_uuid(), pp.id, w.day, w.first, w.last
            FROM (SELECT id, row_number() OVER (ORDER BY id) AS k FROM programme_participants
                  WHERE programme_id = :p AND role = 'mentee') pp
            CROSS JOIN LATERAL (VALUES (CAST(pp.k % 5 AS int), 720, 810), (CAST((pp.k + 2) % 5 AS int), 1080, 1200),
                                       (5, 540, 720), (CAST((pp.k + 4) % 5 AS int), 480, 600),
                                       (6, 600, 660)) AS w(day, first, last)
            WHERE w.day <> 6 OR pp.k % 2 = 0
        """), {"p": programme})
    # 50 accepted bookings each in the four weeks (and their sessions), as the slot benchmarks seed them.
    with stack.engine.begin() as conn:
        listed = conn.execute(text("SELECT m.user_id, m.id, l.id FROM mentor_profiles m JOIN listings l "
                                   "ON l.mentor_profile_id = m.id WHERE l.programme_id = :p"), {"p": programme}).all()
    seed.calendars(stack.engine, [seed.Mentor(*row) for row in listed], BOOKINGS, inside=BOOKINGS,
                   window_start=start, window=timedelta(weeks=4))
    return programme


def _run(stack: Stack, programme_id: uuid.UUID) -> dict[str, Any]:
    """The matching worker's steps over the programme, each timed; the run kept as the worker keeps it."""
    from models import MatchRun, MatchRunStatus, Programme  # noqa: PLC0415 - after the run's environment
    from workflows.matching import cohort, execution, scores, solver  # noqa: PLC0415
    from workflows.matching.settings import Settings  # noqa: PLC0415

    now, run_id = datetime.now(UTC), uuid.uuid4()
    with Session(stack.engine) as db, db.begin():
        db.add(MatchRun(id=run_id, programme_id=programme_id, status=MatchRunStatus.RUNNING, started_at=now,
                        stage="bench"))
    began = time.perf_counter()
    with Session(stack.engine) as db, db.begin():
        programme = db.get_one(Programme, programme_id)
        inputs = cohort.gather(db, programme, Settings.of(programme.matching), now)
    free = time.perf_counter()
    matrix = scores.compute(inputs)
    scored = time.perf_counter()
    pairs = solver.solve(matrix)
    solved = time.perf_counter()
    found = solver.result(matrix, pairs)
    with Session(stack.engine) as db, db.begin():
        execution.finish(db, run_id, inputs, matrix, found, now=datetime.now(UTC))
    saved = time.perf_counter()
    return {"total_s": saved - began, "free_s": free - began, "score_s": scored - free, "solve_s": solved - scored,
            "save_s": saved - solved, "matched": found["matched"], "mentees": found["mentees"],
            "solver_total": found["total"], "greedy_total": found["greedy_total"],
            "greedy_matched": found["greedy_matched"]}


def match_cohort(stack: Stack, cfg: Config) -> list[Rep]:
    reps = []
    small_cohort, large_cohort = cfg.match_small, cfg.match_large
    for rep in range(cfg.reps):
        small = _run(stack, _cohort(stack, *small_cohort))
        large = _run(stack, _cohort(stack, *large_cohort))
        cfg.progress(
            f"match rep {rep}: {large_cohort[0]}x{large_cohort[1]} in {large['total_s']:.2f} s (free time "
            f"{large['free_s']:.2f}, scores {large['score_s']:.2f}, solve {large['solve_s']:.2f} = floor, save "
            f"{large['save_s']:.2f}); {large['matched']} of {large['mentees']} matched; "
            f"{small_cohort[0]}x{small_cohort[1]} in {small['total_s']:.3f} s; solver {large['solver_total']:.0f} "
            f"vs greedy {large['greedy_total']:.0f} ({large['greedy_matched']} matched)")
        reps.append({"cohort_s": round(large["total_s"], 3), "free_s": round(large["free_s"], 3),
                     "score_s": round(large["score_s"], 3), "floor_solve_s": round(large["solve_s"], 3),
                     "save_s": round(large["save_s"], 3), "small_s": round(small["total_s"], 3),
                     "matched": large["matched"],
                     "scaling_ratio": round(large["total_s"] / small["total_s"], 2),
                     "quality_ratio": round(large["solver_total"] / large["greedy_total"], 4)
                     if large["greedy_total"] else 1.0})
    return reps
