"""A programme's cohort as the matcher reads it, gathered once per run and kept with it (``match_runs.inputs``).

Each person's free time over the programme's first four weeks is read once per person, in minutes since the
period's start, so every pair's overlap is one matrix product (``workflows.matching.scores``):

- a mentor's: the starts their programme listing offers for a session of the agreed length, from the slot engine
  (its own step from each opening of their hours; weekly hours, date overrides, time off, buffers, day and week
  limits, busy times from their own calendar, accepted bookings), for all mentors at once
  (``slots.free_starts_each``): the very times a pairing can ask for, a start off the quarter hour included;
- a mentee's: their weekly windows from the intake, in their own zone, day by day (so 18:00 stays 18:00 local across
  a DST change), each window apart (a session fits in one, as a pairing's first time reads them), less their
  accepted bookings; any time when they gave none.

The mentors' part runs in chunks, with a callback between them: the run's progress, and where a cancel is heard.
Runs kept from before (``version`` 1) held both on a 15-minute grid; :func:`current` reads them as today's.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    Booking,
    BookingStatus,
    Listing,
    MatchDraft,
    MentorProfile,
    NoShow,
    Pairing,
    ParticipantAvailability,
    ParticipantRole,
    ParticipantStatus,
    Programme,
    ProgrammeParticipant,
    Question,
    User,
    mentor_profile_skills,
)
from models.mentors.mentors import Skill
from workflows.errors import BusinessRuleViolation
from workflows.matching import preferences
from workflows.matching.settings import Criterion, Kind, Settings
from workflows.programmes.directory import directory_answers
from workflows.programmes.lifecycle import FINISHED
from workflows.programmes.pairings import LIVE
from workflows.scheduling.hours import MINUTES_PER_DAY
from workflows.scheduling.slots import free_starts_each
from workflows.skills import normalise_skill

STEP = timedelta(minutes=15)
STEPS_PER_DAY = 96
MINUTE = timedelta(minutes=1)
VERSION = 2
WEEKS = 4
MENTOR_CHUNK = 50
# A cohort the matcher takes in one run: its score matrices and its solve stay within memory and the time limit.
MAX_MENTEES, MAX_MENTORS = 5_000, 2_000

Bits = NDArray[np.bool_]


@dataclass(frozen=True)
class Period:
    """The four weeks matched on: from the programme's start (or now, when later), at a quarter hour."""

    start: datetime
    weeks: int = WEEKS

    @property
    def steps(self) -> int:
        return self.weeks * 7 * STEPS_PER_DAY

    @property
    def minutes(self) -> int:
        return self.weeks * 7 * MINUTES_PER_DAY

    @property
    def end(self) -> datetime:
        return self.start + timedelta(weeks=self.weeks)

    def minute(self, moment: datetime, *, up: bool = False) -> int:
        """The minutes since the start to a moment (to the minute after it, ``up``, when it falls between two)."""
        return -((self.start - moment) // MINUTE) if up else (moment - self.start) // MINUTE

    @classmethod
    def of(cls, programme: Programme, now: datetime) -> Period:
        begins = datetime.combine(programme.starts_on, time(), UTC) if programme.starts_on else now
        begins = max(begins, now)
        minute = begins.replace(second=0, microsecond=0)
        minute += timedelta(minutes=1) if minute < begins else timedelta()
        return cls(minute + timedelta(minutes=-minute.minute % 15))


def unpack(text: str, steps: int) -> Bits:
    return np.unpackbits(np.frombuffer(base64.b64decode(text), dtype=np.uint8), count=steps).astype(bool)


def current(inputs: dict[str, Any]) -> dict[str, Any]:
    """A run's inputs as this version reads them: those of a run kept from version 1 (free steps and starts on a
    15-minute grid, packed) as minutes."""
    if int(inputs.get("version", 1)) >= VERSION:
        return inputs
    steps, every = int(inputs["weeks"]) * 7 * STEPS_PER_DAY, STEP // MINUTE
    mentees = []
    for one in inputs["mentees"]:
        edges = np.diff(np.concatenate([[0], unpack(one["free"], steps).astype(np.int8), [0]]))
        spans = zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True)
        mentees.append({**one, "free": [[int(lower) * every, int(upper) * every] for lower, upper in spans]})
    mentors = [{**one, "starts": [int(step) * every for step in np.flatnonzero(unpack(one["starts"], steps))]}
               for one in inputs["mentors"]]
    return {**inputs, "version": VERSION, "mentees": mentees, "mentors": mentors}


def digest(inputs: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


# --- answers ---------------------------------------------------------------------------------------------


def answers_of(participant: ProgrammeParticipant, from_directory: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """The participant's answers by question, those the directory gives included."""
    return {str(one["question_id"]): one.get("value") for one in [*(participant.intake_answers or []),
                                                                   *from_directory]}


def encoded(criterion: Criterion, value: Any, options: Sequence[str] | None) -> Any:
    """An answer as a criterion compares it: a sorted list of tokens (shared), a token (same, differ), a rank
    (above); None when unanswered."""
    if value is None:
        return None
    if criterion.kind == Kind.SHARED:
        values = value if isinstance(value, list) else [value]
        return sorted({normalise_skill(str(one)) for one in values})
    if criterion.kind == Kind.ABOVE:
        if isinstance(value, int):
            return value
        return list(options or []).index(value) if value in (options or []) else None
    return normalise_skill(str(value))


def _offset(zone: str, moment: datetime) -> float:
    offset = moment.astimezone(ZoneInfo(zone)).utcoffset()
    return offset.total_seconds() / 3600 if offset is not None else 0.0


# --- free time -------------------------------------------------------------------------------------------


Spans = list[list[int]]  # [from, to) pairs, in minutes since the period's start


def _mentee_free(period: Period, zone_name: str, windows: Sequence[tuple[int, int, int]],
                 busy: Sequence[tuple[datetime, datetime]]) -> Spans:
    """Each window on each local date of the period, less every minute a commitment touches, in start order."""
    if not windows:
        spans = [(0, period.minutes)]
    else:
        spans = []
        zone = ZoneInfo(zone_name)
        first = period.start.astimezone(zone).date() - timedelta(days=1)
        for offset in range(period.weeks * 7 + 2):
            day = first + timedelta(days=offset)
            spans.extend((period.minute(_wall(day, start_minute, zone), up=True),
                          period.minute(_wall(day, end_minute, zone)))
                         for weekday, start_minute, end_minute in windows if weekday == day.weekday())
    cuts = sorted((period.minute(start), period.minute(end, up=True)) for start, end in busy)
    free: Spans = []
    for opens, closes in sorted(spans):
        lower, upper = max(opens, 0), min(closes, period.minutes)
        for cut_lower, cut_upper in cuts:
            if cut_upper <= lower or cut_lower >= upper:
                continue
            if cut_lower > lower:
                free.append([lower, cut_lower])
            lower = max(lower, cut_upper)
        if lower < upper:
            free.append([lower, upper])
    return free


def _wall(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """The instant of a local wall time (one skipped by a spring-forward change is read as after it)."""
    return (datetime.combine(day, time(), zone) + timedelta(minutes=minute)).astimezone(UTC) \
        if minute < MINUTES_PER_DAY else datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)


def _starts(period: Period, moments: Sequence[datetime]) -> list[int]:
    """The starts in the period, in minutes since its start (the slot engine's are whole minutes)."""
    return [period.minute(moment) for moment in moments
            if period.start <= moment < period.end and (moment - period.start) % MINUTE == timedelta()]


# --- the cohort, read -------------------------------------------------------------------------------------

Progress = Callable[[int, int], None]


def _people(db: Session, programme_id: uuid.UUID) -> list[tuple[ProgrammeParticipant, str, str]]:
    rows = db.execute(select(ProgrammeParticipant, User.display_name, User.timezone)
                      .join(User, User.id == ProgrammeParticipant.user_id)
                      .where(ProgrammeParticipant.programme_id == programme_id,
                             ProgrammeParticipant.status == ParticipantStatus.ACTIVE, FINISHED)
                      .order_by(ProgrammeParticipant.id)).all()
    return [(row, name, zone or "UTC") for row, name, zone in rows]


def _mentor_facts(db: Session, user_ids: list[uuid.UUID]) -> tuple[dict[uuid.UUID, MentorProfile],
                                                                      dict[uuid.UUID, list[str]], dict[uuid.UUID, int]]:
    profiles = {p.user_id: p for p in db.scalars(select(MentorProfile).where(MentorProfile.user_id.in_(user_ids)))}
    skills: dict[uuid.UUID, list[str]] = defaultdict(list)
    for profile_id, name in db.execute(select(mentor_profile_skills.c.mentor_profile_id, Skill.name)
                                       .join(Skill, Skill.id == mentor_profile_skills.c.skill_id)
                                       .where(mentor_profile_skills.c.mentor_profile_id.in_(
                                           [p.id for p in profiles.values()]))):
        skills[profile_id].append(name)
    no_shows = dict(db.execute(select(Booking.mentor_profile_id, func.count()).where(
        Booking.mentor_profile_id.in_([p.id for p in profiles.values()]), Booking.no_show == NoShow.MENTOR,
        Booking.no_show_confirmed_at.is_not(None)).group_by(Booking.mentor_profile_id)).all())
    return profiles, skills, no_shows


def gather(db: Session, programme: Programme, settings: Settings, now: datetime, *,
           progress: Progress | None = None) -> dict[str, Any]:
    """The cohort to match now: the mentees of the programme not paired (nor pinned to a draft) and its mentors
    with their room left, as plain data the run keeps; only those whose intake is finished (a mentor's hours given);
    and the pairs its coordinators keep apart or prefer (``workflows.matching.preferences``)."""
    period = Period.of(programme, now)
    people = _people(db, programme.id)
    live = dict(db.execute(select(Pairing.mentor_participant_id, func.count()).where(
        Pairing.programme_id == programme.id, Pairing.status.in_(LIVE))
        .group_by(Pairing.mentor_participant_id)).all())
    paired = set(db.scalars(select(Pairing.mentee_participant_id).where(
        Pairing.programme_id == programme.id, Pairing.status.in_(LIVE))))
    pinned = sorted((str(mentee), str(mentor)) for mentee, mentor in db.execute(
        select(MatchDraft.mentee_participant_id, MatchDraft.mentor_participant_id).where(
            MatchDraft.programme_id == programme.id, MatchDraft.pinned.is_(True))))
    held: defaultdict[str, int] = defaultdict(int)
    for _mentee, mentor in pinned:
        held[mentor] += 1
    taken = paired | {uuid.UUID(mentee) for mentee, _ in pinned}
    mentees = [(p, name, zone) for p, name, zone in people if p.role == ParticipantRole.MENTEE and p.id not in taken]
    mentors = [(p, name, zone) for p, name, zone in people if p.role == ParticipantRole.MENTOR]
    if len(mentees) > MAX_MENTEES or len(mentors) > MAX_MENTORS:
        raise BusinessRuleViolation("a run matches at most {max_mentees} mentees and {max_mentors} mentors at once; "
                                    "this cohort has {mentees} and {mentors}",
                                    words={"max_mentees": MAX_MENTEES, "max_mentors": MAX_MENTORS,
                                           "mentees": len(mentees), "mentors": len(mentors)})
    options = {str(q_id): list(opts) for q_id, opts in db.execute(
        select(Question.id, Question.options).where(Question.programme_id == programme.id))}
    profiles, skills, no_shows = _mentor_facts(db, [p.user_id for p, _, _ in mentors])

    from_directory = directory_answers(db, [p.id for p, _, _ in (*mentees, *mentors)])

    def answers(person: ProgrammeParticipant, side: str) -> list[Any]:
        given = answers_of(person, from_directory.get(person.id, []))
        compared = []
        for criterion in settings.criteria:
            question_id = criterion.mentee_question_id if side == "mentee" else criterion.mentor_question_id
            if question_id is None:  # the mentor's skills
                profile = profiles.get(person.user_id)
                compared.append(sorted(skills.get(profile.id, [])) if profile is not None else [])
            else:
                compared.append(encoded(criterion, given.get(question_id), options.get(question_id)))
        return compared

    mentee_ids = [p.id for p, _, _ in mentees]
    windows: dict[uuid.UUID, list[tuple[int, int, int]]] = defaultdict(list)
    for row in db.scalars(select(ParticipantAvailability).where(
            ParticipantAvailability.participant_id.in_(mentee_ids))):
        windows[row.participant_id].append((row.weekday, row.start_minute, row.end_minute))
    busy: dict[uuid.UUID, list[tuple[datetime, datetime]]] = defaultdict(list)
    for user_id, start, end in db.execute(select(Booking.mentee_user_id, Booking.start_time, Booking.end_time).where(
            Booking.mentee_user_id.in_([p.user_id for p, _, _ in mentees]), Booking.status == BookingStatus.ACCEPTED,
            Booking.start_time < period.end, Booking.end_time > period.start)):
        busy[user_id].append((start, end))
    mentee_rows = []
    for person, name, _account_zone in mentees:
        zone = person.timezone or "UTC"  # as a pairing's first time reads the windows (the intake keeps a zone)
        mentee_rows.append({"id": str(person.id), "name": name, "zone": zone, "offset": _offset(zone, period.start),
                            "answers": answers(person, "mentee"),
                            "free": _mentee_free(period, zone, windows[person.id], busy[person.user_id])})

    listings = {row.mentor_profile_id: row for row in db.scalars(select(Listing).where(
        Listing.programme_id == programme.id, Listing.mentor_profile_id.in_([p.id for p in profiles.values()])))}
    starts: dict[uuid.UUID, list[datetime]] = {}
    chunk_listings = [listings[profiles[p.user_id].id] for p, _, _ in mentors
                      if p.user_id in profiles and profiles[p.user_id].id in listings]
    for first in range(0, len(chunk_listings), MENTOR_CHUNK):
        starts.update(free_starts_each(db, chunk_listings[first:first + MENTOR_CHUNK], start=period.start,
                                       end=period.end, now=now, minutes=programme.session_minutes))
        if progress is not None:
            progress(min(first + MENTOR_CHUNK, len(chunk_listings)), len(chunk_listings))
    mentor_rows = []
    for person, name, _zone in mentors:
        profile = profiles.get(person.user_id)
        listing = listings.get(profile.id) if profile is not None else None
        zone = profile.timezone if profile is not None else "UTC"
        capacity = person.capacity or 0
        mentor_rows.append({
            "id": str(person.id), "name": name, "zone": zone, "offset": _offset(zone, period.start),
            "answers": answers(person, "mentor"), "capacity": capacity,
            "left": max(capacity - live.get(person.id, 0) - held[str(person.id)], 0),
            "no_shows": no_shows.get(profile.id, 0) if profile is not None else 0,
            "starts": _starts(period, starts.get(listing.id, []) if listing is not None else [])})
    apart, prefer = preferences.for_run(db, programme.id)
    return {"version": VERSION, "programme_id": str(programme.id), "period_start": period.start.isoformat(),
            "weeks": period.weeks, "session_minutes": programme.session_minutes,
            "cadence_weeks": programme.cadence_weeks, "settings": settings.as_json(),
            "mentees": mentee_rows, "mentors": mentor_rows, "pinned": [list(pair) for pair in pinned],
            "apart": apart, "prefer": prefer}
