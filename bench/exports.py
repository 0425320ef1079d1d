"""``export_rss_mb``: how much a gunicorn worker's resident memory grows while it streams a programme's 100,000
sessions as CSV (``GET /programmes/{id}/exports/sessions.csv``), above its RSS when idle (after a warm-up export of a
few rows, so that what every request loads once is in both).

The programme has 100 mentors and 100 mentees; its sessions are completed one-hour sessions of accepted bookings, one
every six minutes over 417 days (each mentor's and each mentee's ten hours apart). Each rep starts a fresh gunicorn
as ``make run`` does, reads every worker's ``VmRSS`` idle, then samples it every 20 ms while one client downloads the
whole file as fast as it can; the figure is the largest growth of any worker. The rows and seconds are reported too.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import text

from api.security import issue_token
from bench import seed
from bench.figures import Config, Rep
from bench.stack import Stack
from devstack.host import children_of

PEOPLE = 100
SAMPLE_SECONDS = 0.02


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _programme(stack: Stack, sessions: int) -> tuple[uuid.UUID, uuid.UUID]:
    """A running programme with ``sessions`` completed sessions on its mentors' listings; its id and its
    coordinator's user id."""
    programme = uuid.uuid4()
    (coordinator,) = seed.users(stack.engine, 1)
    mentors, mentees = seed.mentors(stack.engine, PEOPLE), seed.users(stack.engine, PEOPLE)
    with stack.engine.begin() as conn:
        conn.execute(text("INSERT INTO programmes (id, name, status) VALUES (:id, 'Bench export', 'running')"),
                     {"id": programme})
        conn.execute(text("INSERT INTO programme_coordinators (programme_id, user_id) VALUES (:p, :u)"),
                     {"p": programme, "u": coordinator})
        conn.execute(text("UPDATE listings SET programme_id = :p WHERE id = ANY(:ids)"),
                     {"p": programme, "ids": [m.listing_id for m in mentors]})
        conn.execute(text("""
            CREATE TEMPORARY TABLE export_bookings ON COMMIT DROP AS
            SELECT gen_random_uuid() AS id, m.listing_id, m.profile_id,
                   (CAST(:mentees AS uuid[]))[1 + n % :people] AS mentee,
                   CAST(:first AS timestamptz) + n * interval '6 minutes' AS start_time
            FROM generate_series(0, :count - 1) AS n
            JOIN unnest(CAST(:profiles AS uuid[]), CAST(:listings AS uuid[])) WITH ORDINALITY
                 AS m(profile_id, listing_id, k) ON m.k = 1 + n % :people
        """), {"mentees": mentees, "people": PEOPLE, "count": sessions,
               "first": seed.PAST - timedelta(minutes=6 * sessions + 120),
               "profiles": [m.profile_id for m in mentors], "listings": [m.listing_id for m in mentors]})
        conn.execute(text("""
            INSERT INTO bookings (id, listing_id, mentor_profile_id, mentee_user_id, start_time, end_time,
                                  status, price_cents, currency, decided_at)
            SELECT id, listing_id, profile_id, mentee, start_time, start_time + interval '1 hour', 'accepted', 0,
                   'USD', start_time - interval '2 days' FROM export_bookings
        """))
        conn.execute(text("""
            INSERT INTO sessions (id, kind, booking_id, listing_id, programme_id, mentor_profile_id, mentee_user_id,
                                  start_time, end_time, status, started_at, completed_at, completed_by)
            SELECT gen_random_uuid(), 'individual', id, listing_id, :p, profile_id, mentee, start_time,
                   start_time + interval '1 hour', 'completed', start_time, start_time + interval '1 hour', 'mentor'
            FROM export_bookings
        """), {"p": programme})
    stack.vacuum()
    return programme, coordinator


def _download(base: str, url: str, token: str, params: dict[str, str]) -> tuple[int, int]:
    """The whole file, read as fast as it comes; its bytes and lines."""
    size = lines = 0
    with httpx.Client(base_url=base, timeout=600) as client, \
            client.stream("GET", url, params=params, headers={"Authorization": f"Bearer {token}"}) as answer:
        if answer.status_code != 200:  # noqa: PLR2004
            raise RuntimeError(f"GET {url}: {answer.status_code} {answer.read()[:300]!r}")
        for piece in answer.iter_bytes():
            size += len(piece)
            lines += piece.count(b"\n")
    return size, lines


def export_rss(stack: Stack, cfg: Config, sessions: int) -> list[Rep]:
    programme, coordinator = _programme(stack, sessions)
    token = issue_token(coordinator, 0)[0]
    url = f"/api/v1/programmes/{programme}/exports/sessions.csv"
    last = seed.PAST.date()
    whole = {"from": (last - timedelta(days=730)).isoformat(), "to": last.isoformat()}
    reps = []
    for rep in range(cfg.reps):
        api, base = stack.start_api()
        workers = children_of(api.popen.pid)
        for _ in workers:  # each worker's first export (a few rows): what any request loads once
            _download(base, url, token, {"from": last.isoformat(), "to": last.isoformat()})
        time.sleep(1)
        idle = {pid: _rss_mb(pid) for pid in workers}
        peak = dict(idle)
        done = threading.Event()

        def sample(peak: dict[int, float] = peak, done: threading.Event = done) -> None:
            while not done.wait(SAMPLE_SECONDS):
                for pid, most in list(peak.items()):
                    peak[pid] = max(most, _rss_mb(pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        began = time.perf_counter()
        size, lines = _download(base, url, token, whole)
        took = time.perf_counter() - began
        done.set()
        sampler.join()
        api.stop()
        growth = max(peak[pid] - idle[pid] for pid in workers)
        busiest = max(workers, key=lambda pid: peak[pid] - idle[pid])
        cfg.progress(f"export rep {rep}: {lines - 1} rows, {size / 1e6:.1f} MB in {took:.1f} s; worker RSS idle "
                     f"{idle[busiest]:.1f} MB, peak {peak[busiest]:.1f} MB (+{growth:.1f})")
        if lines - 1 != sessions:
            raise RuntimeError(f"the export had {lines - 1} rows of {sessions}")
        reps.append({"rss_growth_mb": round(growth, 1), "idle_rss_mb": round(idle[busiest], 1),
                     "peak_rss_mb": round(peak[busiest], 1), "rows": lines - 1, "seconds": round(took, 2),
                     "megabytes": round(size / 1e6, 1)})
    return reps
