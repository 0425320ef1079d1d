"""Benchmark data written with set-based SQL: a million rows take seconds, not hours of API calls."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, text

from api.security import issue_token
from models.mentors.listings import slug_for

_counter = itertools.count()
# Far enough ahead that nothing expires or becomes "missed" during a run.
FUTURE = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=30)
# Where the history of past sessions ends; fixed, so that batches added later never overlap earlier ones.
PAST = FUTURE - timedelta(days=31)


@dataclass(frozen=True)
class Mentor:
    user_id: uuid.UUID
    profile_id: uuid.UUID
    listing_id: uuid.UUID

    def headers(self) -> dict[str, str]:
        # Users inserted here keep the column's default token version, 0: nobody signs them out.
        return {"Authorization": f"Bearer {issue_token(self.user_id, 0)[0]}"}


def users(engine: Engine, count: int) -> list[uuid.UUID]:
    """``count`` users who cannot log in (a placeholder hash); tokens are issued directly."""
    batch = next(_counter)
    with engine.begin() as conn:
        rows = conn.execute(text("""
            INSERT INTO users (id, email, display_name, password_hash)
            SELECT gen_random_uuid(), 'bench-' || :batch || '-' || n || '@example.com', 'Bench user ' || n, 'x'
            FROM generate_series(1, :count) AS n RETURNING id
        """), {"batch": batch, "count": count}).scalars().all()
    return list(rows)


def mentors(engine: Engine, count: int) -> list[Mentor]:
    """``count`` mentors, each with a profile and an individual one-hour listing."""
    user_ids = users(engine, count)
    created = []
    with engine.begin() as conn:
        skill_id = conn.execute(text("""
            INSERT INTO skills (id, name) VALUES (gen_random_uuid(), 'python')
            ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id
        """)).scalar_one()
        for user_id in user_ids:
            profile_id, listing_id = uuid.uuid4(), uuid.uuid4()
            conn.execute(text("""
                INSERT INTO mentor_profiles (id, user_id, headline, timezone) VALUES (:p, :u, 'Bench mentor', 'UTC')
            """), {"p": profile_id, "u": user_id})
            conn.execute(text("""
                INSERT INTO listings (id, mentor_profile_id, skill_id, title, slug, duration_minutes, price_cents,
                                      currency, kind)
                VALUES (:l, :p, :s, 'Code review', :slug, 60, 5000, 'USD', 'individual')
            """), {"l": listing_id, "p": profile_id, "s": skill_id, "slug": slug_for("Code review")})
            created.append(Mentor(user_id, profile_id, listing_id))
    return created


_hours_drafted = [0]  # hours after FUTURE already given to drafts in this run


def drafts(engine: Engine, mentor: Mentor, mentee_ids: list[uuid.UUID], count: int) -> list[uuid.UUID]:
    """``count`` draft bookings of ``mentor``, an hour apart, so any of them can be accepted.

    Every draft of the run has an hour of its own: a mentee never holds two accepted bookings at
    once (the database refuses it), whichever mentors accept them.
    """
    first = _hours_drafted[0]
    _hours_drafted[0] += count
    with engine.begin() as conn:
        rows = conn.execute(text("""
            INSERT INTO bookings (id, listing_id, mentor_profile_id, mentee_user_id, start_time, end_time,
                                  status, price_cents, currency)
            SELECT gen_random_uuid(), :listing, :profile, (:mentees)[1 + n % cardinality(:mentees)],
                   :start + n * interval '1 hour', :start + (n + 1) * interval '1 hour', 'draft', 5000, 'USD'
            FROM generate_series(0, :count - 1) AS n ORDER BY n RETURNING id
        """), {"listing": mentor.listing_id, "profile": mentor.profile_id, "mentees": mentee_ids,
               "start": FUTURE + timedelta(hours=first), "count": count}).scalars().all()
    return list(rows)


def past_sessions(engine: Engine, mentor_list: list[Mentor], mentee_ids: list[uuid.UUID], count: int, *,
                  analyze: bool = True) -> None:
    """``count`` completed sessions (and their bookings) spread evenly over ``mentor_list``, in the past.

    Each session has an hour of its own (no mentee is in two at once), so each mentor's form a real
    history; the table's other rows belong to other mentors, as on a shared platform.
    """
    with engine.begin() as conn:
        offset = conn.execute(text("SELECT count(*) FROM sessions")).scalar_one()
        conn.execute(text("""
            CREATE TEMPORARY TABLE new_bookings ON COMMIT DROP AS
            SELECT gen_random_uuid() AS id, m.listing_id, m.profile_id,
                   (:mentees)[1 + n % cardinality(:mentees)] AS mentee,
                   CAST(:past AS timestamptz) - n * interval '1 hour' AS start_time
            FROM generate_series(CAST(:offset AS bigint), CAST(:offset AS bigint) + :count - 1) AS n
            JOIN unnest(CAST(:profiles AS uuid[]), CAST(:listings AS uuid[])) WITH ORDINALITY
                 AS m(profile_id, listing_id, k) ON m.k = 1 + n % cardinality(:profiles)
        """), {"mentees": mentee_ids, "profiles": [m.profile_id for m in mentor_list],
               "listings": [m.listing_id for m in mentor_list], "offset": offset, "count": count,
               "past": PAST})
        _accept_new_bookings(conn)
    if analyze:
        _settle(engine)


def _accept_new_bookings(conn: Connection) -> None:
    """The temporary table ``new_bookings`` as accepted one-hour bookings, each with its session: completed
    when already over, else scheduled."""
    conn.execute(text("""
        INSERT INTO bookings (id, listing_id, mentor_profile_id, mentee_user_id, start_time, end_time,
                              status, price_cents, currency, decided_at)
        SELECT id, listing_id, profile_id, mentee, start_time, start_time + interval '1 hour', 'accepted',
               5000, 'USD', start_time - interval '2 days'
        FROM new_bookings
    """))
    conn.execute(text("""
        INSERT INTO sessions (id, kind, booking_id, listing_id, mentor_profile_id, mentee_user_id,
                              start_time, end_time, status, started_at, completed_at, completed_by)
        SELECT gen_random_uuid(), 'individual', id, listing_id, profile_id, mentee, start_time,
               start_time + interval '1 hour', CASE WHEN over THEN 'completed' ELSE 'scheduled' END,
               CASE WHEN over THEN start_time END, CASE WHEN over THEN start_time + interval '1 hour' END,
               CASE WHEN over THEN 'mentor' END
        FROM (SELECT *, start_time + interval '1 hour' < now() AS over FROM new_bookings) AS booking
    """))


def _settle(engine: Engine) -> None:
    """Statistics for the new rows, and their pages written now, not by a checkpoint in the middle of a timing."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE bookings"))
        conn.execute(text("VACUUM ANALYZE sessions"))
        conn.execute(text("CHECKPOINT"))


@dataclass(frozen=True)
class Accepts:
    """Drafts in the order a load sends their accepts, each with its mentor's bearer token."""

    ids: list[uuid.UUID]
    tokens: list[str]

    def paths(self, template: str = "/api/v1/bookings/{}/accept") -> list[str]:
        return [template.format(booking_id) for booking_id in self.ids]


def interleaved_drafts(engine: Engine, mentor_list: list[Mentor], mentee_ids: list[uuid.UUID], per_mentor: int,
                       sets: int = 1) -> list[Accepts]:
    """``sets`` disjoint sets of ``per_mentor`` drafts per mentor; in each, draft *j* is of mentor *j* mod M.

    Consecutive requests are by different mentors, as on a platform: one mentor's own accepts
    queue on that mentor's schedule lock by design. One call per mentor, so no two sets overlap in time.
    """
    every = [drafts(engine, mentor, mentee_ids, sets * per_mentor) for mentor in mentor_list]
    tokens = [mentor.headers()["Authorization"].removeprefix("Bearer ") for mentor in mentor_list]
    order = [(m, k) for k in range(per_mentor) for m in range(len(mentor_list))]
    return [Accepts([every[m][s * per_mentor + k] for m, k in order], [tokens[m] for m, _ in order])
            for s in range(sets)]


def team(engine: Engine, members: list[Mentor]) -> uuid.UUID:
    """The first member's listing, taught by all of ``members`` in their order: its id."""
    listing_id = members[0].listing_id
    with engine.begin() as conn:
        conn.execute(text("""
            INSERT INTO listing_members (listing_id, mentor_profile_id, position)
            SELECT :listing, profile, k - 1 FROM unnest(CAST(:profiles AS uuid[])) WITH ORDINALITY AS m(profile, k)
        """), {"listing": listing_id, "profiles": [m.profile_id for m in members]})
    return listing_id


def calendars(engine: Engine, members: list[Mentor], per_member: int, *, inside: int, window_start: datetime,
              window: timedelta) -> None:
    """``per_member`` accepted one-hour bookings for each of ``members``, each with its session, ``inside`` of
    them in [window_start, window_start + window) and the rest half before it and half after it.

    Inside, member *k*'s bookings are spread evenly and shifted by *k* mod 3 hours, so members are busy at
    different times, as on a real team. Outside, one every other hour. Sessions in the past are completed,
    the others scheduled. Member *k*'s bookings all go to a mentee of their own, who is never double-booked.
    """
    mentees = users(engine, len(members))
    hours = int(window / timedelta(hours=1))
    before = (per_member - inside) // 2
    with engine.begin() as conn:
        conn.execute(text("""
            CREATE TEMPORARY TABLE new_bookings ON COMMIT DROP AS
            SELECT gen_random_uuid() AS id, m.listing_id, m.profile_id, m.mentee,
                   CASE WHEN n < :inside THEN CAST(:start AS timestamptz)
                                              + (n * :hours / :inside + (m.k - 1) % 3) * interval '1 hour'
                        WHEN n < :inside + :before THEN CAST(:start AS timestamptz)
                                                        - (n - :inside + 1) * interval '2 hours'
                        ELSE CAST(:start AS timestamptz)
                             + (:hours + (n - :inside - :before) * 2) * interval '1 hour'
                   END AS start_time
            FROM generate_series(0, :per_member - 1) AS n
            CROSS JOIN unnest(CAST(:profiles AS uuid[]), CAST(:listings AS uuid[]), CAST(:mentees AS uuid[]))
                 WITH ORDINALITY AS m(profile_id, listing_id, mentee, k)
        """), {"inside": inside, "start": window_start, "hours": hours, "before": before, "per_member": per_member,
               "profiles": [m.profile_id for m in members], "listings": [m.listing_id for m in members],
               "mentees": mentees})
        _accept_new_bookings(conn)
    _settle(engine)
