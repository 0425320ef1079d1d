"""A programme's dashboard for its coordinators (and admins), read from the summaries the analytics worker keeps
(``workflows.reports.tallies``): a few rows whatever the programme's size. The pairs at risk come a page at a time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from models import MentorProfile, Pairing, PairingStatus, PairingTally, ProgrammeTally, ProgrammeWeek, User
from models.reports import WEEK_COUNTS
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import InvalidInput
from workflows.pagination import Page, paginate
from workflows.programmes import access as programme_access
from workflows.reports.tallies import week_of

DEFAULT_WEEKS = 12
MAX_WEEKS = 106  # two years and a little: a period's rows stay few
# A pair is at risk when it has not met for this many weeks (1 to MAX_QUIET_WEEKS; the caller may say)...
DEFAULT_QUIET_WEEKS, MAX_QUIET_WEEKS = 3, 26
# ...when at least this many of its sessions were missed or cancelled at the pair's own request (a pause, an end, a
# coordinator's move is no sign of trouble between them), and no fewer than it held...
REPEATED_MISSES = 2
# ...or when its sessions' reviews average this or less.
LOW_RATING = 2.5
CANCELLED_BY = ("cancelled_by_mentor", "cancelled_by_mentee", "cancelled_by_coordinator", "cancelled_by_admin",
                "cancelled_by_system")
SESSION_COUNTS = ("held", "minutes_held", *CANCELLED_BY, "no_show_mentee", "no_show_mentor", "missed")
CHART_COUNTS = ("held", *CANCELLED_BY, "no_show_mentee", "no_show_mentor", "missed", "pairs_started", "pairs_ended")


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _period(since: date | None, until: date | None, now: datetime) -> tuple[date, date]:
    """The weeks asked for, as their Mondays: by default the last twelve to this one."""
    last = week_of(datetime.combine(until, datetime.min.time(), UTC)) if until else week_of(now)
    first = week_of(datetime.combine(since, datetime.min.time(), UTC)) if since else \
        last - timedelta(weeks=DEFAULT_WEEKS - 1)
    if first > last:
        raise InvalidInput("`from` comes after `to`", field="from")
    if (last - first).days // 7 + 1 > MAX_WEEKS:
        raise InvalidInput("a period holds at most {max_weeks} weeks", words={"max_weeks": MAX_WEEKS}, field="from")
    return first, last


def report(db: Session, actor: Actor, programme_id: uuid.UUID, *, since: date | None = None,
           until: date | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The programme's numbers over the weeks from ``since`` to ``until`` (both included): its pairs now, its sessions
    by outcome week by week, attendance and no-show rates, time from pairing to a first session, reviews and closing
    surveys, and (whatever the period) its goals and the share of pairs a match run made with a top-3 mentor."""
    programme_access.may_read_report(db, actor, programme_id)
    first, last = _period(since, until, now or utcnow())
    kept = {row.week: row for row in db.scalars(select(ProgrammeWeek).where(
        ProgrammeWeek.programme_id == programme_id, ProgrammeWeek.week.between(first, last)))}
    totals = dict.fromkeys(WEEK_COUNTS, 0)
    weeks = []
    week = first
    while week <= last:
        row = kept.get(week)
        counts = {name: getattr(row, name) if row else 0 for name in WEEK_COUNTS}
        for name, value in counts.items():
            totals[name] += value
        weeks.append({"week": week, **{name: counts[name] for name in CHART_COUNTS},
                      "rating_average": _average(counts["rating_sum"], counts["rating_count"])})
        week += timedelta(weeks=1)
    tally = db.get(ProgrammeTally, programme_id)
    came = totals["held"] + totals["no_show_mentee"] + totals["no_show_mentor"] + totals["missed"]
    absent = totals["no_show_mentee"] + totals["no_show_mentor"]
    return {
        "programme_id": programme_id, "from": first, "to": last,
        "pairs": {status.value: getattr(tally, status.value) if tally else 0 for status in PairingStatus},
        "sessions": {name: totals[name] for name in SESSION_COUNTS},
        "attendance_rate": _share(totals["held"], came),
        "no_show_rate": _share(absent, totals["held"] + absent),
        "first_session": {"pairs": totals["first_sessions"],
                          "average_days": _average(totals["first_session_hours"], totals["first_sessions"] * 24)},
        "rating": {"average": _average(totals["rating_sum"], totals["rating_count"]), "count": totals["rating_count"]},
        "survey": {"average": _average(totals["survey_sum"], totals["survey_count"]), "count": totals["survey_count"]},
        "goals": {"set": tally.goals_set if tally else 0, "done": tally.goals_done if tally else 0},
        "match": {"from_run": tally.from_run if tally else 0, "top3": tally.top3 if tally else 0,
                  "share": _share(tally.top3, tally.from_run) if tally else None},
        "weeks": weeks,
        "updated_at": tally.updated_at if tally else None,
    }


def _average(total: int, count: int) -> float | None:
    return round(total / count, 2) if count else None


@dataclass(frozen=True)
class PairAtRisk:
    pairing_id: uuid.UUID
    mentor_name: str
    mentee_name: str
    status: str
    reasons: list[str]
    last_held_at: datetime | None
    paired_at: datetime


def _reasons(tally: PairingTally, quiet_weeks: int, now: datetime) -> list[str]:
    reasons = []
    quiet_since = now - timedelta(weeks=quiet_weeks)
    if tally.status == PairingStatus.PROPOSED and tally.paired_at < quiet_since:
        reasons.append(f"proposed {(now - tally.paired_at).days // 7} weeks ago and not accepted yet")
    elif tally.status == PairingStatus.ACTIVE and (tally.last_held_at or tally.paired_at) < quiet_since:
        since = tally.last_held_at or tally.paired_at
        reasons.append(f"no session held for {(now - since).days // 7} weeks"
                       + ("" if tally.last_held_at else " since they were paired"))
    missed = tally.cancelled_by_pair + tally.no_shows + tally.missed
    if missed >= REPEATED_MISSES and missed >= tally.held:
        reasons.append(f"{missed} of {missed + tally.held} sessions cancelled at the pair's request or missed")
    if tally.rating_count and tally.rating_sum / tally.rating_count <= LOW_RATING:
        reasons.append(f"rated {tally.rating_sum / tally.rating_count:.1f} of 5 on average "
                       f"({tally.rating_count} review{'s' if tally.rating_count > 1 else ''})")
    return reasons


def at_risk(db: Session, actor: Actor, programme_id: uuid.UUID, *, quiet_weeks: int = DEFAULT_QUIET_WEEKS,
            limit: int, cursor: str | None, now: datetime | None = None) -> Page[PairAtRisk]:
    """The programme's live pairs at risk, longest paired first, each with its reasons: not met for
    ``quiet_weeks`` (active) or not accepted for as long (proposed), sessions repeatedly cancelled or missed, low
    reviews."""
    programme_access.may_read_report(db, actor, programme_id)
    if not 1 <= quiet_weeks <= MAX_QUIET_WEEKS:
        raise InvalidInput("weeks runs from 1 to {max_quiet_weeks}",
                           words={"max_quiet_weeks": MAX_QUIET_WEEKS}, field="weeks")
    now = now or utcnow()
    quiet_since = now - timedelta(weeks=quiet_weeks)
    missed = PairingTally.cancelled_by_pair + PairingTally.no_shows + PairingTally.missed
    query = select(PairingTally).where(
        PairingTally.programme_id == programme_id, PairingTally.status != PairingStatus.ENDED,
        or_(and_(PairingTally.status == PairingStatus.PROPOSED, PairingTally.paired_at < quiet_since),
            and_(PairingTally.status == PairingStatus.ACTIVE,
                 PairingTally.last_held_at.is_(None) & (PairingTally.paired_at < quiet_since)
                 | (PairingTally.last_held_at < quiet_since)),
            and_(missed >= REPEATED_MISSES, missed >= PairingTally.held),
            and_(PairingTally.rating_count > 0, PairingTally.rating_sum <= LOW_RATING * PairingTally.rating_count)))
    page = paginate(db, query, PairingTally.paired_at, PairingTally.pairing_id, limit=limit, cursor=cursor)
    names = _names(db, [tally.pairing_id for tally in page.items])
    return Page([PairAtRisk(tally.pairing_id, *names.get(tally.pairing_id, ("", "")), tally.status.value,
                            _reasons(tally, quiet_weeks, now), tally.last_held_at, tally.paired_at)
                 for tally in page.items], page.next_cursor)


def _names(db: Session, pairing_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[str, str]]:
    if not pairing_ids:
        return {}
    mentor, mentee = User.__table__.alias("mentor"), User.__table__.alias("mentee")
    rows = db.execute(select(Pairing.id, mentor.c.display_name, mentee.c.display_name)
                      .join(MentorProfile, MentorProfile.id == Pairing.mentor_profile_id)
                      .join(mentor, mentor.c.id == MentorProfile.user_id)
                      .join(mentee, mentee.c.id == Pairing.mentee_user_id)
                      .where(Pairing.id.in_(pairing_ids)))
    return {pairing_id: (mentor_name, mentee_name) for pairing_id, mentor_name, mentee_name in rows}
