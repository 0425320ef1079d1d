"""``pairing_activation_ratio``: the p50 of pairing a mentor and a mentee with a 12-session weekly cadence (the
coordinator's call, which chooses the first time both are free and asks for the 12 sessions) plus the mentor's accept
of them, both calls timed, ÷ the p50 of one booking's request plus its accept, in the same run, on the same API
process, the two kinds taken in turn.

The programme is made over HTTP before the clock starts (an admin creates and opens it; its mentors and mentees join
by links, each mentor confirming every day's hours, 00:00-24:00, in the intake as they must before anyone pairs them);
each pairing is of a new mentee, its mentor one of a few (each takes 20 at most), all in UTC, the mentees giving no
windows: the first time is the mentor's first free one. The single bookings are of
another mentor, an hour apart.
"""

from __future__ import annotations

import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text

from api.security import issue_token
from bench import seed
from bench.figures import Config, Rep
from bench.stack import Stack

SESSIONS = 12
PER_MENTOR = 20
ALL_WEEK = [{"weekday": day, "start_minute": 0, "end_minute": 1440} for day in range(7)]


def pairing_activation(stack: Stack, cfg: Config) -> list[Rep]:
    _, base = stack.shared_api()
    samples = cfg.series_samples
    reps = []
    for rep in range(cfg.reps):
        (admin,) = seed.users(stack.engine, 1)
        with stack.engine.begin() as conn:
            conn.execute(text("UPDATE users SET is_admin = true WHERE id = :id"), {"id": admin})
        mentors = seed.mentors(stack.engine, -(-samples // PER_MENTOR))
        mentees = seed.users(stack.engine, samples)
        single_mentor, = seed.mentors(stack.engine, 1)
        requesters = seed.users(stack.engine, samples)
        with httpx.Client(base_url=base, timeout=120) as client:
            programme = _post(client, "/api/v1/programmes", admin, {
                "name": f"Bench cohort {rep}", "session_count": SESSIONS, "cadence_weeks": 1})
            url = f"/api/v1/programmes/{programme['id']}"
            _post(client, f"{url}/open-enrolment", admin)
            mentor_ids = [_join(client, url, admin, mentor.user_id, "mentor") for mentor in mentors]
            mentee_ids = [_join(client, url, admin, mentee, "mentee") for mentee in mentees]
            first = seed.FUTURE + timedelta(days=3 + rep)
            single_ms, pairing_ms = [], []
            for index, (requester, mentee_id) in enumerate(zip(requesters, mentee_ids, strict=True)):
                mentor = mentors[index // PER_MENTOR]
                began = time.perf_counter()
                booking = _post(client, "/api/v1/bookings", requester, {
                    "listing_id": str(single_mentor.listing_id),
                    "start_time": (first + timedelta(hours=index)).isoformat()})
                _post(client, f"/api/v1/bookings/{booking['id']}/accept", single_mentor.user_id)
                single_ms.append((time.perf_counter() - began) * 1000)
                began = time.perf_counter()
                pairing = _post(client, f"{url}/pairings", admin, {
                    "mentor_participant_id": mentor_ids[index // PER_MENTOR], "mentee_participant_id": mentee_id})
                accepted = _post(client, f"/api/v1/booking-series/{pairing['series_id']}/accept", mentor.user_id)
                pairing_ms.append((time.perf_counter() - began) * 1000)
                if accepted["accepted_count"] != SESSIONS:
                    raise RuntimeError(f"the pairing's series accepted {accepted['accepted_count']} of {SESSIONS}")
        one, paired = statistics.median(single_ms), statistics.median(pairing_ms)
        cfg.progress(f"pairing_activation rep {rep}: request+accept p50 {one:.1f} ms, "
                     f"{SESSIONS}-session pairing+accept p50 {paired:.1f} ms")
        reps.append({"single_p50_ms": round(one, 2), "pairing_p50_ms": round(paired, 2),
                     "ratio": round(paired / one, 3), "samples": samples})
    return reps


def _bearer(user_id: uuid.UUID) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(user_id, 0)[0]}"}  # version 0: seeded users keep it


def _post(client: httpx.Client, path: str, user_id: uuid.UUID, body: dict[str, object] | None = None
          ) -> dict[str, object]:
    answer = client.post(path, headers=_bearer(user_id), json=body or {})
    if not answer.is_success:
        raise RuntimeError(f"POST {path}: {answer.status_code} {answer.text[:300]}")
    return answer.json()


def _join(client: httpx.Client, url: str, admin: uuid.UUID, user_id: uuid.UUID, role: str) -> str:
    link = _post(client, f"{url}/join-links", admin, {
        "role": role, "max_uses": 1, "expires_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        **({"capacity": PER_MENTOR} if role == "mentor" else {})})
    joined = str(_post(client, "/api/v1/programmes/join", user_id, {"token": link["token"]})["id"])
    if role == "mentor":  # their hours, confirmed in the intake
        answer = client.put(f"{url}/intake", headers=_bearer(user_id), json={"answers": [], "windows": ALL_WEEK})
        if not answer.is_success:
            raise RuntimeError(f"PUT {url}/intake: {answer.status_code} {answer.text[:300]}")
    return joined
