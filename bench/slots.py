"""``slot_query_scaling``: a team listing's free slots over 62 days, against one idle mentor's; ``slots_rules_ratio``:
one mentor's with every scheduling rule set and 5,000 busy times of their own calendar, against the same calendar's
with windows only.

The team is 20 mentors, each holding ``Config.slot_bookings`` accepted bookings (with their sessions),
``Config.slot_bookings_inside`` of them inside the queried window; the single mentor has none. Both
listings last an hour, their mentors are in UTC with no availability windows (bookable at any time),
so both answers list about the same start times: what the team costs beyond the idle mentor is its
members' calendars.
"""

from __future__ import annotations

import statistics
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine, text

from bench import seed
from bench.figures import Config, Rep
from bench.load import run_load
from bench.stack import Stack

TEAM_SIZE = 20
WINDOW = timedelta(days=62)


def _path(listing_id: object, start: datetime) -> str:
    def stamp(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"/api/v1/listings/{listing_id}/slots?from={stamp(start)}&to={stamp(start + WINDOW)}"


def slot_query(stack: Stack, cfg: Config) -> list[Rep]:
    """p50 of the team's 62-day slot query ÷ p50 of the idle mentor's, one connection each, in turn."""
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=2)
    (single,) = seed.mentors(stack.engine, 1)
    members = seed.mentors(stack.engine, TEAM_SIZE)
    team_listing = seed.team(stack.engine, members)
    seed.calendars(stack.engine, members, cfg.slot_bookings, inside=cfg.slot_bookings_inside, window_start=start,
                   window=WINDOW)
    team_path, single_path = _path(team_listing, start), _path(single.listing_id, start)
    headers = single.headers()
    _, base = stack.shared_api()
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        team_slots = client.get(team_path).raise_for_status().json()["items"]
        single_slots = client.get(single_path).raise_for_status().json()["items"]
    if not team_slots or len(team_slots) > len(single_slots):
        raise RuntimeError(f"the team has {len(team_slots)} free slots, the idle mentor {len(single_slots)}")

    return _compare(cfg, base, headers, "slot_query", subject=("team", team_path, len(team_slots)),
                    baseline=("single", single_path, len(single_slots)))


# The mentor of ``slots_rules_ratio``: Monday to Friday, 08:00-20:00 in Paris, for both sides.
RULES_ZONE = "Europe/Paris"
TIME_OFF_RANGES, OVERRIDES = 20, 30
BUSY_INTERVALS = 5000  # read from the ruled mentor's own calendar


def _rules(engine: Engine, ruled: seed.Mentor, plain: seed.Mentor, start: datetime) -> None:
    """Both mentors' windows; the ruled one's listing rules, limits, time off and date overrides."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE mentor_profiles SET timezone = :zone WHERE id = ANY(:ids)"),
                     {"zone": RULES_ZONE, "ids": [ruled.profile_id, plain.profile_id]})
        conn.execute(text("""
            INSERT INTO availability_windows (id, mentor_profile_id, weekday, start_minute, end_minute)
            SELECT gen_random_uuid(), p, d, 480, 1200 FROM unnest(CAST(:ids AS uuid[])) AS p, generate_series(0, 4) AS d
        """), {"ids": [ruled.profile_id, plain.profile_id]})
        conn.execute(text("""
            UPDATE listings SET buffer_before_minutes = 10, buffer_after_minutes = 15, min_notice_minutes = 120,
                   max_days_ahead = 180, slot_step_minutes = 30, max_sessions_per_day = 10, max_sessions_per_week = 60,
                   max_active_bookings_per_mentor = 5 WHERE id = :listing
        """), {"listing": ruled.listing_id})
        conn.execute(text("UPDATE mentor_profiles SET max_sessions_per_day = 10, max_sessions_per_week = 60 "
                          "WHERE id = :p"), {"p": ruled.profile_id})
        # Time off: half a day every third day of the window and before it, none overlapping.
        conn.execute(text("""
            INSERT INTO time_off (id, mentor_profile_id, start_time, end_time, note)
            SELECT gen_random_uuid(), :p, CAST(:start AS timestamptz) + (k * 3 - 6) * interval '1 day',
                   CAST(:start AS timestamptz) + (k * 3 - 6) * interval '1 day' + interval '12 hours', 'Away'
            FROM generate_series(0, :count - 1) AS k
        """), {"p": ruled.profile_id, "start": start, "count": TIME_OFF_RANGES})
        # Date overrides: every other day of the window, shorter hours or none, alternately.
        conn.execute(text("""
            INSERT INTO date_overrides (id, mentor_profile_id, day, hours)
            SELECT gen_random_uuid(), :p, CAST(:start AS date) + k * 2 + 1,
                   CASE WHEN k % 2 = 0 THEN CAST('[[600, 840]]' AS jsonb) ELSE CAST('[]' AS jsonb) END
            FROM generate_series(0, :count - 1) AS k
        """), {"p": ruled.profile_id, "start": start, "count": OVERRIDES})
        # Their own calendar: 5,000 busy times of 20 minutes, one every 150 minutes from 60 days before the window
        # (about 600 inside it), as a sync stores them.
        connection, source = uuid.uuid4(), uuid.uuid4()
        conn.execute(text("INSERT INTO calendar_connections (id, mentor_profile_id, kind, host, credentials) "
                          "VALUES (:c, :p, 'ics', 'calendar.example.com', 'sealed')"),
                     {"c": connection, "p": ruled.profile_id})
        conn.execute(text("INSERT INTO calendar_sources (id, connection_id, mentor_profile_id, href, name) "
                          "VALUES (:s, :c, :p, 'https://calendar.example.com/busy.ics', 'Busy')"),
                     {"s": source, "c": connection, "p": ruled.profile_id})
        conn.execute(text("""
            INSERT INTO busy_intervals (mentor_profile_id, source_id, start_time, end_time)
            SELECT :p, :s, CAST(:start AS timestamptz) - interval '60 days' + k * interval '150 minutes',
                   CAST(:start AS timestamptz) - interval '60 days' + k * interval '150 minutes' + interval '20 minutes'
            FROM generate_series(0, :count - 1) AS k
        """), {"p": ruled.profile_id, "s": source, "start": start, "count": BUSY_INTERVALS})


def slot_rules(stack: Stack, cfg: Config) -> list[Rep]:
    """p50 of the ruled mentor's 62-day slot query ÷ p50 of the same windows with no rule and no booking."""
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=2)
    ruled, plain = seed.mentors(stack.engine, 2)
    _rules(stack.engine, ruled, plain, start)
    seed.calendars(stack.engine, [ruled], cfg.slot_bookings, inside=cfg.slot_bookings_inside, window_start=start,
                   window=WINDOW)
    ruled_path, plain_path = _path(ruled.listing_id, start), _path(plain.listing_id, start)
    headers = plain.headers()
    _, base = stack.shared_api()
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        ruled_slots = client.get(ruled_path).raise_for_status().json()["items"]
        plain_slots = client.get(plain_path).raise_for_status().json()["items"]
    if not ruled_slots or not plain_slots:
        raise RuntimeError(f"the ruled mentor has {len(ruled_slots)} free slots, the plain one {len(plain_slots)}")
    return _compare(cfg, base, headers, "slot_rules", subject=("ruled", ruled_path, len(ruled_slots)),
                    baseline=("plain", plain_path, len(plain_slots)))


Side = tuple[str, str, int]  # its name in the figures, its path, and how many slots it answers


def _compare(cfg: Config, base: str, headers: dict[str, str], name: str, *, subject: Side, baseline: Side
             ) -> list[Rep]:
    """p50 of the subject's path ÷ p50 of the baseline's: one connection each (the p50 of a query alone, not of
    two queued behind each other's GIL), in turn, the order flipped each repetition so that neither always runs
    on a warmer machine."""
    def measure(path: str) -> float:
        result = run_load(base, [path], seconds=cfg.seconds, connections=1, threads=1, headers=headers)
        if result.ok() == 0 or set(result.statuses) != {200}:
            raise RuntimeError(f"GET {path} answered {result.statuses}")
        return result.p50_ms

    (key, path, count), (base_key, base_path, base_count) = subject, baseline
    reps = []
    for rep in range(cfg.reps):
        if rep % 2 == 0:
            base_ms, subject_ms = measure(base_path), measure(path)
        else:
            subject_ms, base_ms = measure(path), measure(base_path)
        reps.append({f"p50_{key}_ms": subject_ms, f"p50_{base_key}_ms": base_ms, "ratio": subject_ms / base_ms,
                     f"{key}_slots": count, f"{base_key}_slots": base_count})
        cfg.progress(f"{name} rep {rep + 1}: {key} p50 {subject_ms:.1f} ms, {base_key} {base_ms:.1f} ms "
                     f"(ratio {subject_ms / base_ms:.2f})")
    cfg.progress(f"{name}: {key} {statistics.median(r[f'p50_{key}_ms'] for r in reps):.1f} ms, {base_key} "
                 f"{statistics.median(r[f'p50_{base_key}_ms'] for r in reps):.1f} ms (medians)")
    return reps
