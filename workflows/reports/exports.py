"""A programme's exports for its coordinators and admins: its pairs, sessions, closing surveys, participants (with
their intake answers) and goals over a period, as CSV for spreadsheet apps and as pages of JSON.

A CSV is read in keyset chunks of ``CHUNK_ROWS`` rows, each in a session of its own that is closed (its transaction
ended, its connection given back) before the chunk is written out: a programme of 100,000 sessions streams in
bounded memory, and no transaction stays open while a slow client downloads. Rows are read as plain tuples, never as
ORM objects. Each chunk reads the database as it is then, so a row written mid-download after the chunk's position
appears, and one before it does not.

The period is of UTC days, ``first`` to ``last`` inclusive, at most ``MAX_PERIOD_DAYS`` long: sessions by their
start; pairs that overlap it (paired before its end, not ended before its start); survey answers by when they were
given; participants who took part in it (joined before its end, not gone before its start); goals open in it (set
before its end, not reached or dropped before its start). What a coordinator reads here is what the pairings' own
pages show them: names, never email addresses; no session notes or cancellation reasons, but who cancelled and why.
Both count from the dashboard's one definition
(docs/PRIMER.md, "Programme reports"): a pair's session counts are its tally's (``models.reports``); the sessions are
the programme's, a meeting moved by agreement only at its new time, each with its pair's latest pairing made before it
started (``workflows.reports.tallies``).

A cell that a spreadsheet would read as a formula (one starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return) is written with a leading apostrophe, as OWASP advises; the file starts with a UTF-8 byte order mark, so that
spreadsheet apps read it as UTF-8. Its times are UTC, as the API's; a file asked for in a reader's zone has, after
each time, a column of that time on the reader's wall clock (``joined_at (Europe/Paris)``).

A participant's intake answers (those their organisation's directory gives included, after theirs) are personal
data: read by those who run the programme only, an administrator's export in the audit trail, as a read of the
answers themselves is.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, Row, Select, cast, extract, func, or_, select, tuple_
from sqlalchemy.orm import Session, aliased, sessionmaker

from models import (
    CancelCause,
    MentorProfile,
    MentorshipSession,
    Pairing,
    PairingGoal,
    PairingSurvey,
    PairingTally,
    Programme,
    ProgrammeParticipant,
    User,
)
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import InvalidInput
from workflows.pagination import MAX_PAGE_SIZE, Page, decode_cursor, encode_cursor
from workflows.programmes import access as programme_access
from workflows.programmes.directory import answers_with_directory

CHUNK_ROWS = 1000
MAX_PERIOD_DAYS = 731  # two years, a leap day included
DEFAULT_PERIOD_DAYS = 365  # the period's length when neither the caller nor the programme says
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)
BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Rows = Select[*tuple[Any, ...]]


@dataclass(frozen=True)
class Period:
    """UTC days ``first`` to ``last``, both included."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), UTC)


def period_of(programme: Programme, first: date | None, last: date | None, today: date) -> Period:
    """The period asked for; a bound not given is the programme's own date, else today for the last day and the year
    up to the last day for the first. 422 for one out of order, longer than two years, or outside 2000-2099."""
    last = last or programme.ends_on or today
    first = first or programme.starts_on or last - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    if not EARLIEST <= first <= LATEST or not EARLIEST <= last <= LATEST:
        raise InvalidInput("the period must fall within 2000-2099")
    if last < first:
        raise InvalidInput("the period ends ({last}) before it starts ({first})", words={"last": last, "first": first})
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidInput("the period is at most {max_period_days} days long; give `from` and `to`",
                           words={"max_period_days": MAX_PERIOD_DAYS})
    return Period(first, last)


@dataclass(frozen=True)
class Export:
    """One export: its columns in order, the query of its rows (the columns, then the key's last parts), and the
    key it is read in order of: the first column of the key is a time, the rest say which row."""

    name: str
    columns: tuple[str, ...]
    rows: Callable[[uuid.UUID, Period], Rows]
    key: Callable[[], tuple[Any, ...]]
    key_of: Callable[[Row[Any]], tuple[Any, ...]]
    read_key: Callable[[str], tuple[Any, ...]]
    times: tuple[str, ...] = ()  # the columns that are instants: a reader's zone adds one after each


_MENTOR_USER, _MENTEE_USER = aliased(User), aliased(User)


def _names(query: Rows, mentor_profile_id: Any, mentee_user_id: Any, *, group: bool = False) -> Rows:
    """The query joined to the names of the mentor and the mentee (a group session has none)."""
    query = (query.join(MentorProfile, MentorProfile.id == mentor_profile_id)
             .join(_MENTOR_USER, _MENTOR_USER.id == MentorProfile.user_id))
    return query.outerjoin(_MENTEE_USER, _MENTEE_USER.id == mentee_user_id) if group \
        else query.join(_MENTEE_USER, _MENTEE_USER.id == mentee_user_id)


def _pair_rows(programme_id: uuid.UUID, period: Period) -> Rows:
    query = select(
        Pairing.id.label("pairing_id"), _MENTOR_USER.display_name.label("mentor_name"),
        _MENTEE_USER.display_name.label("mentee_name"), Pairing.status, Pairing.created_at.label("paired_at"),
        Pairing.activated_at, Pairing.ended_at, Pairing.ended_by, Pairing.cadence_weeks, Pairing.session_minutes,
        Pairing.session_count,
        func.coalesce(PairingTally.held, 0).label("sessions_held"),
        func.coalesce(PairingTally.cancelled, 0).label("sessions_cancelled"),
        func.coalesce(PairingTally.cancelled_by_pair, 0).label("cancelled_by_pair"),
        func.coalesce(PairingTally.no_shows, 0).label("no_shows"),
        func.coalesce(PairingTally.missed, 0).label("missed"),
    ).outerjoin(PairingTally, PairingTally.pairing_id == Pairing.id)
    return _names(query, Pairing.mentor_profile_id, Pairing.mentee_user_id).where(
        Pairing.programme_id == programme_id, Pairing.created_at < period.end,
        or_(Pairing.ended_at.is_(None), Pairing.ended_at >= period.start))


def _session_rows(programme_id: uuid.UUID, period: Period) -> Rows:
    held = MentorshipSession
    # The dashboard's rule (workflows.reports.tallies): the pair's latest pairing made before the session started.
    pairing = (select(Pairing.id).where(Pairing.programme_id == held.programme_id,
                                        Pairing.mentor_profile_id == held.mentor_profile_id,
                                        Pairing.mentee_user_id == held.mentee_user_id,
                                        Pairing.created_at <= held.start_time)
               .order_by(Pairing.created_at.desc()).limit(1).scalar_subquery())
    query = select(
        held.id.label("session_id"), pairing.label("pairing_id"), _MENTOR_USER.display_name.label("mentor_name"),
        _MENTEE_USER.display_name.label("mentee_name"), held.kind, held.start_time, held.end_time,
        cast(extract("epoch", held.end_time - held.start_time) / 60, Integer).label("minutes"), held.status,
        held.cancelled_by, held.cancel_cause.label("cause"),
    )
    return _names(query, held.mentor_profile_id, held.mentee_user_id, group=True).where(
        held.programme_id == programme_id, held.start_time >= period.start, held.start_time < period.end,
        held.cancel_cause.is_distinct_from(CancelCause.RESCHEDULE))


def _survey_rows(programme_id: uuid.UUID, period: Period) -> Rows:
    query = select(
        PairingSurvey.pairing_id, _MENTOR_USER.display_name.label("mentor_name"),
        _MENTEE_USER.display_name.label("mentee_name"), PairingSurvey.role, PairingSurvey.rating,
        PairingSurvey.comment, PairingSurvey.answered_at,
    ).join(Pairing, Pairing.id == PairingSurvey.pairing_id)
    return _names(query, Pairing.mentor_profile_id, Pairing.mentee_user_id).where(
        Pairing.programme_id == programme_id, PairingSurvey.answered_at >= period.start,
        PairingSurvey.answered_at < period.end)


def _participant_rows(programme_id: uuid.UUID, period: Period) -> Rows:
    return select(
        ProgrammeParticipant.id.label("participant_id"), User.display_name, ProgrammeParticipant.role,
        ProgrammeParticipant.status, ProgrammeParticipant.capacity, ProgrammeParticipant.joined_at,
        ProgrammeParticipant.ended_at, ProgrammeParticipant.intake_finished_at,
        answers_with_directory().label("intake_answers"),
    ).join(User, User.id == ProgrammeParticipant.user_id).where(
        ProgrammeParticipant.programme_id == programme_id, ProgrammeParticipant.joined_at < period.end,
        or_(ProgrammeParticipant.ended_at.is_(None), ProgrammeParticipant.ended_at >= period.start))


def _goal_rows(programme_id: uuid.UUID, period: Period) -> Rows:
    query = select(
        PairingGoal.id.label("goal_id"), PairingGoal.pairing_id, _MENTOR_USER.display_name.label("mentor_name"),
        _MENTEE_USER.display_name.label("mentee_name"), PairingGoal.title, PairingGoal.status,
        PairingGoal.target_date, PairingGoal.created_at, PairingGoal.done_at, PairingGoal.milestones,
    ).join(Pairing, Pairing.id == PairingGoal.pairing_id)
    return _names(query, Pairing.mentor_profile_id, Pairing.mentee_user_id).where(
        Pairing.programme_id == programme_id, PairingGoal.created_at < period.end,
        or_(PairingGoal.done_at.is_(None), PairingGoal.done_at >= period.start))


def _uuid_key(text: str) -> tuple[Any, ...]:
    try:
        return (uuid.UUID(text),)
    except ValueError as exc:
        raise InvalidInput("invalid cursor") from exc


def _survey_key(text: str) -> tuple[Any, ...]:
    pairing_id, _, role = text.partition(" ")
    if role not in {"mentor", "mentee"}:
        raise InvalidInput("invalid cursor")
    return (*_uuid_key(pairing_id), role)


EXPORTS = {export.name: export for export in (
    Export("pairs", ("pairing_id", "mentor_name", "mentee_name", "status", "paired_at", "activated_at", "ended_at",
                     "ended_by", "cadence_weeks", "session_minutes", "session_count", "sessions_held",
                     "sessions_cancelled", "cancelled_by_pair", "no_shows", "missed"),
           _pair_rows, lambda: (Pairing.created_at, Pairing.id), lambda row: (row.paired_at, row.pairing_id),
           _uuid_key, ("paired_at", "activated_at", "ended_at")),
    Export("sessions", ("session_id", "pairing_id", "mentor_name", "mentee_name", "kind", "start_time", "end_time",
                        "minutes", "status", "cancelled_by", "cause"),
           _session_rows, lambda: (MentorshipSession.start_time, MentorshipSession.id),
           lambda row: (row.start_time, row.session_id), _uuid_key, ("start_time", "end_time")),
    Export("surveys", ("pairing_id", "mentor_name", "mentee_name", "role", "rating", "comment", "answered_at"),
           _survey_rows, lambda: (PairingSurvey.answered_at, PairingSurvey.pairing_id, PairingSurvey.role),
           lambda row: (row.answered_at, row.pairing_id, row.role), _survey_key, ("answered_at",)),
    Export("participants", ("participant_id", "display_name", "role", "status", "capacity", "joined_at", "ended_at",
                            "intake_finished_at", "intake_answers"),
           _participant_rows, lambda: (ProgrammeParticipant.joined_at, ProgrammeParticipant.id),
           lambda row: (row.joined_at, row.participant_id), _uuid_key, ("joined_at", "ended_at", "intake_finished_at")),
    Export("goals", ("goal_id", "pairing_id", "mentor_name", "mentee_name", "title", "status", "target_date",
                     "created_at", "done_at", "milestones"),
           _goal_rows, lambda: (PairingGoal.created_at, PairingGoal.id), lambda row: (row.created_at, row.goal_id),
           _uuid_key, ("created_at", "done_at")),
)}


def _read(db: Session, export: Export, programme_id: uuid.UUID, period: Period, *, after: tuple[Any, ...] | None,
          limit: int) -> list[Row[Any]]:
    """Up to ``limit`` rows after the key ``after``, in key order."""
    key = export.key()
    query = export.rows(programme_id, period)
    if after is not None:
        query = query.where(tuple_(*key) > after)
    return list(db.execute(query.order_by(*key).limit(limit)))


def chunks(factory: sessionmaker[Session], name: str, programme_id: uuid.UUID, period: Period, *,
           chunk_rows: int = CHUNK_ROWS) -> Iterator[list[Row[Any]]]:
    """The export's rows in key order, ``chunk_rows`` at a time, each chunk read in a session of its own that is
    closed before the chunk is yielded: nothing is held open while the caller writes the chunk out."""
    export = EXPORTS[name]
    after: tuple[Any, ...] | None = None
    while True:
        with factory() as db:
            rows = _read(db, export, programme_id, period, after=after, limit=chunk_rows)
        if rows:
            yield rows
        if len(rows) < chunk_rows:
            return
        after = export.key_of(rows[-1])


def spreadsheet_safe(text: str) -> str:
    """The text as a spreadsheet shows it and never runs it: a leading apostrophe before a formula's first
    character, spaces before it included (some spreadsheets skip them)."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) or text.lstrip().startswith(FORMULA_STARTS) else text


def _listed(items: list[dict[str, Any]]) -> str:
    """Intake answers (a label and a value each) or milestones (a title and whether done), one a line."""
    lines = []
    for item in items:
        if "label" in item:
            value = item.get("value")
            lines.append(f"{item['label']}: {', '.join(map(str, value)) if isinstance(value, list) else value}")
        else:
            lines.append(f"{'[x]' if item.get('done') else '[ ]'} {item.get('title', '')}")
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, list):
        value = _listed(value)
    return spreadsheet_safe(str(value))


def _on_wall_clock(value: Any, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else ""


def csv_bytes(name: str, rows: Iterable[Sequence[Row[Any]]], zone: ZoneInfo | None = None) -> Iterator[bytes]:
    """The CSV file of the export's chunks of rows, one piece of UTF-8 a chunk: its header first, after a BOM; with
    ``zone``, each time followed by a column of it on that zone's wall clock."""
    export = EXPORTS[name]
    header: list[str] = []
    local = set()
    for position, column in enumerate(export.columns):
        header.append(column)
        if zone is not None and column in export.times:
            header.append(f"{column} ({zone.key})")
            local.add(position)
    buffer = io.StringIO()
    # Every cell quoted: a spreadsheet whose locale splits on ";" still reads a cell whole.
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
    writer.writerow(header)
    yield (BOM + buffer.getvalue()).encode()
    for chunk in rows:
        buffer.seek(0)
        buffer.truncate()
        for row in chunk:
            cells = []
            for position, value in enumerate(row):
                cells.append(_cell(value))
                if position in local and zone is not None:
                    cells.append(_on_wall_clock(value, zone))
            writer.writerow(cells)
        yield buffer.getvalue().encode()


@dataclass(frozen=True)
class CsvExport:
    """What the CSV route sends: the file's name, and what to read in chunks."""

    name: str
    programme_id: uuid.UUID
    period: Period
    filename: str
    zone: ZoneInfo | None = None


def filename(programme: Programme, name: str, period: Period) -> str:
    """A file name safe in any header and file system: the programme's name in ASCII letters, digits and dashes."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", programme.name).strip("-").lower()[:40].strip("-") or "programme"
    return f"{stem}-{name}-{period.first.isoformat()}-{period.last.isoformat()}.csv"


def prepare_csv(db: Session, actor: Actor, programme_id: uuid.UUID, name: str, *, first: date | None,
                last: date | None, zone: ZoneInfo | None = None) -> CsvExport:
    """Who may read it (its coordinators and admins; 403 for its participants, 404 for anyone else) and the period:
    checked before any of the file is sent."""
    programme, _ = programme_access.may_export(db, actor, programme_id, name)
    span = period_of(programme, first, last, utcnow().date())
    return CsvExport(name, programme.id, span, filename(programme, name, span), zone)


def page(db: Session, actor: Actor, programme_id: uuid.UUID, name: str, *, first: date | None, last: date | None,
         limit: int, cursor: str | None) -> Page[dict[str, Any]]:
    """One page of the export as JSON rows, in key order, after ``cursor``."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput("a page holds 1 to {max_page_size} items", words={"max_page_size": MAX_PAGE_SIZE})
    # a read of the export, once: not each of its pages
    programme, _ = programme_access.may_export(db, actor, programme_id, name, first_page=cursor is None)
    span = period_of(programme, first, last, utcnow().date())
    export = EXPORTS[name]
    after = None
    if cursor:
        moment, which = decode_cursor(cursor, uuid_ids=False)
        after = (moment, *export.read_key(str(which)))
    rows = _read(db, export, programme.id, span, after=after, limit=limit + 1)
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last_key = export.key_of(rows[-1])
        next_cursor = encode_cursor(last_key[0], " ".join(str(part) for part in last_key[1:]))
    return Page([dict(row._mapping) for row in rows], next_cursor)
