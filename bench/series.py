"""``series_accept_ratio``: the p50 of accepting a 26-time weekly series over HTTP ÷ the p50 of accepting one
booking, in the same run, on the same API process, the two kinds taken in turn.

Each series is a new mentee's, of one mentor, at an hour of the day of its own (no two series meet); the single
accepts are of another mentor's drafts, an hour apart. Both mentors are in UTC with no windows. The series is
requested over HTTP before the clock starts: only the accept is timed, as for the single one.
"""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import timedelta

import httpx

from api.security import issue_token
from bench import seed
from bench.figures import Config, Rep
from bench.stack import Stack

TIMES = 26


def series_accept(stack: Stack, cfg: Config) -> list[Rep]:
    _, base = stack.shared_api()
    samples = cfg.series_samples
    reps = []
    for rep in range(cfg.reps):
        single_mentor, series_mentor = seed.mentors(stack.engine, 2)
        mentees = seed.users(stack.engine, samples)
        singles = seed.drafts(stack.engine, single_mentor, seed.users(stack.engine, samples), samples)
        first = seed.FUTURE + timedelta(days=1 + rep)
        with httpx.Client(base_url=base, timeout=120) as client:
            series_ids = []
            for index, mentee in enumerate(mentees):
                made = client.post("/api/v1/booking-series", headers=_bearer(mentee), json={
                    "listing_id": str(series_mentor.listing_id), "every": 1, "count": TIMES,
                    "first_start": (first + timedelta(hours=index)).isoformat()})
                made.raise_for_status()
                series_ids.append(made.json()["id"])
            single_ms, series_ms = [], []
            for booking_id, series_id in zip(singles, series_ids, strict=True):
                single_ms.append(_timed(client, f"/api/v1/bookings/{booking_id}/accept", single_mentor.headers()))
                series_ms.append(_timed(client, f"/api/v1/booking-series/{series_id}/accept",
                                        series_mentor.headers(), accepted=TIMES))
        one, many = statistics.median(single_ms), statistics.median(series_ms)
        cfg.progress(f"series_accept rep {rep}: single p50 {one:.1f} ms, {TIMES}-time series p50 {many:.1f} ms")
        reps.append({"single_p50_ms": round(one, 2), "series_p50_ms": round(many, 2), "ratio": round(many / one, 3),
                     "samples": samples})
    return reps


def _bearer(user_id: uuid.UUID) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(user_id, 0)[0]}"}  # version 0: seeded users keep it


def _timed(client: httpx.Client, path: str, headers: dict[str, str], *, accepted: int | None = None) -> float:
    began = time.perf_counter()
    answer = client.post(path, headers=headers)
    elapsed = (time.perf_counter() - began) * 1000
    answer.raise_for_status()
    if accepted is not None and answer.json()["accepted_count"] != accepted:
        raise RuntimeError(f"the series accepted {answer.json()['accepted_count']} of {accepted} times")
    return elapsed
