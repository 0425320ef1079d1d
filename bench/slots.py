"""``slot_query_scaling``: a team listing's free slots over 62 days, against one idle mentor's.

The team is 20 mentors, each holding ``Config.slot_bookings`` accepted bookings (with their sessions),
``Config.slot_bookings_inside`` of them inside the queried window; the single mentor has none. Both
listings last an hour, their mentors are in UTC with no availability windows (bookable at any time),
so both answers list about the same start times: what the team costs beyond the idle mentor is its
members' calendars.
"""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta

import httpx

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

    def measure(path: str) -> float:
        # One connection: the p50 of a query alone, not of two queued behind each other's GIL.
        result = run_load(base, [path], seconds=cfg.seconds, connections=1, threads=1, headers=headers)
        if result.ok() == 0 or set(result.statuses) != {200}:
            raise RuntimeError(f"GET {path} answered {result.statuses}")
        return result.p50_ms

    reps = []
    for rep in range(cfg.reps):
        # Alternate the order, so neither side always runs on a warmer machine.
        if rep % 2 == 0:
            single_ms, team_ms = measure(single_path), measure(team_path)
        else:
            team_ms, single_ms = measure(team_path), measure(single_path)
        reps.append({"p50_team_ms": team_ms, "p50_single_ms": single_ms, "ratio": team_ms / single_ms,
                     "team_slots": len(team_slots), "single_slots": len(single_slots)})
        cfg.progress(f"slot_query rep {rep + 1}: team p50 {team_ms:.1f} ms, one idle mentor {single_ms:.1f} ms "
                     f"(ratio {team_ms / single_ms:.2f})")
    cfg.progress(f"slot_query: team {statistics.median(r['p50_team_ms'] for r in reps):.1f} ms, "
                 f"one mentor {statistics.median(r['p50_single_ms'] for r in reps):.1f} ms (medians)")
    return reps
