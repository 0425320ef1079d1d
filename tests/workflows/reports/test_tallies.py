"""The dashboard's summaries (``workflows/reports/tallies.py``): kept from events in any order and batching, equal to
hand counts and to a rebuild from the source rows, the same when a batch runs twice or two run at once."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import (
    CancelCause,
    MentorshipSession,
    OutboxEvent,
    PairingStatus,
    PairingTally,
    ProgrammeTally,
    ProgrammeWeek,
    Review,
    SessionStatus,
)
from tests.concurrency import concurrently
from tests.factories.reports import Cohort
from workflows.actors import Actor
from workflows.events import EventType
from workflows.reports import dashboard, tallies

W = datetime(2031, 3, 3, tzinfo=UTC)  # a Monday
NOW = datetime(2031, 4, 29, 10, tzinfo=UTC)
ADMIN = Actor(uuid.uuid4(), is_admin=True)
OUTCOME = {SessionStatus.COMPLETED: EventType.SESSION_COMPLETED, SessionStatus.CANCELLED: EventType.SESSION_CANCELLED,
           SessionStatus.MISSED: EventType.SESSION_MISSED, SessionStatus.MENTEE_NO_SHOW: EventType.SESSION_NO_SHOW,
           SessionStatus.MENTOR_NO_SHOW: EventType.SESSION_NO_SHOW}


def _at(weeks: int, days: int, hour: int = 17) -> datetime:
    return W + timedelta(weeks=weeks, days=days, hours=hour)


def _cohort(db: Session) -> tuple[Cohort, list[OutboxEvent]]:
    """Four pairings and what they did (the module's docstring of the test below counts it by hand), with the
    events the workflows would have recorded."""
    cohort = Cohort(db)
    run = cohort.run()
    a = cohort.pair(W + timedelta(hours=9), run_id=run, rank=1, mentor="Ada", mentee="Lin")
    b = cohort.pair(_at(1, 0, 10), run_id=run, rank=5, mentor="Grace", mentee="Kim")
    c = cohort.pair(W + timedelta(hours=12), status=PairingStatus.ENDED, ended_at=_at(5, 0, 10),
                    mentor="Edsger", mentee="Sam")
    d = cohort.pair(_at(4, 0, 9), status=PairingStatus.PROPOSED, mentor="Barbara", mentee="Ola")
    made = [cohort.session(a, _at(-1, 2), SessionStatus.COMPLETED),  # before they were paired: no pairing's
            cohort.session(a, _at(0, 1), SessionStatus.COMPLETED, rating=5),
            cohort.session(a, _at(1, 1), SessionStatus.COMPLETED, rating=4),
            cohort.session(a, _at(2, 1), SessionStatus.COMPLETED),
            cohort.session(a, _at(3, 1), SessionStatus.CANCELLED, cancelled_by="mentee", cause=CancelCause.REQUEST),
            cohort.session(a, _at(3, 2), SessionStatus.CANCELLED, cancelled_by="system",
                           cause=CancelCause.RESCHEDULE),  # moved: not counted
            cohort.session(c, _at(0, 2, 12), SessionStatus.COMPLETED, minutes=45),
            cohort.session(b, _at(1, 2), SessionStatus.MENTEE_NO_SHOW),
            cohort.session(b, _at(2, 2), SessionStatus.MENTOR_NO_SHOW),
            cohort.session(b, _at(3, 2), SessionStatus.MISSED),
            cohort.session(b, _at(4, 2), SessionStatus.COMPLETED, rating=1)]
    goals = [cohort.goal(a, done_at=_at(2, 0)), cohort.goal(a)]
    cohort.survey(c, "mentee", 4, _at(5, 1))
    cohort.survey(c, "mentor", 2, _at(5, 1))

    def event(event_type: EventType, about: uuid.UUID) -> OutboxEvent:
        """As recorded: the handler reads what it is about from the rows, by the event's aggregate."""
        return OutboxEvent(id=uuid.uuid4(), type=event_type, aggregate_id=about, payload={})

    recorded = [event(OUTCOME[session.status], session.id) for session in made]
    recorded += [event(EventType.REVIEW_CREATED, review_id) for review_id in db.scalars(
        select(Review.id).join(MentorshipSession).where(MentorshipSession.programme_id == cohort.programme.id))]
    recorded += [event(EventType.PAIRING_PROPOSED, p.id) for p in (a, b, c, d)]
    recorded += [event(EventType.PAIRING_ACTIVATED, p.id) for p in (a, b, c)]
    recorded += [event(EventType.PAIRING_ENDED, c.id), event(EventType.PAIRING_SURVEYED, c.id),
                 event(EventType.GOAL_SET, goals[0].id), event(EventType.GOAL_DONE, goals[0].id)]
    return cohort, recorded


def _kept(db: Session, programme_id: uuid.UUID) -> tuple[Any, ...]:
    def rows(model: Any, key: Any) -> list[tuple[Any, ...]]:
        columns = [column for column in model.__table__.columns if column.name != "updated_at"]
        return [tuple(row) for row in db.execute(select(*columns).where(model.programme_id == programme_id)
                                                  .order_by(key))]
    return (rows(ProgrammeWeek, ProgrammeWeek.week), rows(PairingTally, PairingTally.pairing_id),
            rows(ProgrammeTally, ProgrammeTally.programme_id))


def test_kept_from_shuffled_batches_the_numbers_are_the_hand_counts_and_a_rebuild_gives_the_same(
        db: Session) -> None:
    cohort, recorded = _cohort(db)
    random.Random(7).shuffle(recorded)  # noqa: S311 - an order, not a secret
    for start in range(0, len(recorded), 7):
        tallies.handle_events(db, recorded[start:start + 7])
    report = dashboard.report(db, ADMIN, cohort.programme.id, now=NOW)
    assert (str(report["from"]), str(report["to"])) == ("2031-02-10", "2031-04-28")  # the last twelve weeks
    assert report["pairs"] == {"proposed": 1, "active": 2, "paused": 0, "ended": 1}
    assert report["sessions"] == {"held": 6, "minutes_held": 345, "cancelled_by_mentor": 0, "cancelled_by_mentee": 1,
                                  "cancelled_by_coordinator": 0, "cancelled_by_admin": 0, "cancelled_by_system": 0,
                                  "no_show_mentee": 1, "no_show_mentor": 1, "missed": 1}
    assert (report["attendance_rate"], report["no_show_rate"]) == (0.667, 0.25)  # 6 of 9 came due; 2 of 8
    # First sessions 32 h (Ada), 48 h (Edsger) and 559 h (Grace) after pairing: 639 h over three pairs.
    assert report["first_session"] == {"pairs": 3, "average_days": 8.88}
    assert report["rating"] == {"average": 3.33, "count": 3} and report["survey"] == {"average": 3.0, "count": 2}
    assert report["goals"] == {"set": 2, "done": 1}
    assert report["match"] == {"from_run": 2, "top3": 1, "share": 0.5}
    weeks = {str(week["week"]): week for week in report["weeks"]}
    assert len(weeks) == 12 and weeks["2031-02-10"]["held"] == 0
    assert [weeks[day]["held"] for day in ("2031-02-24", "2031-03-03", "2031-03-10", "2031-03-17", "2031-03-24",
                                            "2031-03-31", "2031-04-07")] == [1, 2, 1, 1, 0, 1, 0]
    assert (weeks["2031-03-24"]["cancelled_by_mentee"], weeks["2031-03-24"]["missed"]) == (1, 1)
    assert (weeks["2031-03-10"]["no_show_mentee"], weeks["2031-03-17"]["no_show_mentor"]) == (1, 1)
    assert [weeks[day]["pairs_started"] for day in ("2031-03-03", "2031-03-10", "2031-03-31")] == [2, 1, 1]
    assert weeks["2031-04-07"]["pairs_ended"] == 1 and weeks["2031-03-03"]["rating_average"] == 5.0
    # A period of its own: only its weeks count.
    march = dashboard.report(db, ADMIN, cohort.programme.id, since=W.date(), until=W.date() + timedelta(days=6),
                             now=NOW)
    assert (march["sessions"]["held"], len(march["weeks"]), march["first_session"]["pairs"]) == (2, 1, 2)
    # The rebuild from the source rows alone gives the very rows kept; and a batch run again changes nothing.
    kept = _kept(db, cohort.programme.id)
    assert kept[0] and kept[1] and kept[2]
    assert tallies.rebuild(db, cohort.programme.id) == 7  # the weeks from 24 February to 7 April
    assert _kept(db, cohort.programme.id) == kept
    tallies.handle_events(db, recorded)
    assert _kept(db, cohort.programme.id) == kept


def test_the_pairs_at_risk_with_their_reasons_a_page_at_a_time(db: Session) -> None:
    cohort, recorded = _cohort(db)
    tallies.handle_events(db, recorded)
    first = dashboard.at_risk(db, ADMIN, cohort.programme.id, limit=2, cursor=None, now=NOW)
    assert [(pair.mentor_name, pair.mentee_name, pair.reasons) for pair in first.items] == [
        ("Ada", "Lin", ["no session held for 5 weeks"]),
        ("Grace", "Kim", ["no session held for 3 weeks", "3 of 4 sessions cancelled at the pair's request or missed",
                          "rated 1.0 of 5 on average (1 review)"])]
    rest = dashboard.at_risk(db, ADMIN, cohort.programme.id, limit=2, cursor=first.next_cursor, now=NOW)
    assert [(pair.mentor_name, pair.reasons) for pair in rest.items] == [
        ("Barbara", ["proposed 4 weeks ago and not accepted yet"])] and rest.next_cursor is None
    # Six weeks of quiet: Ada's five no longer count; Grace's other reasons still do; the ended pair never shows.
    quiet = dashboard.at_risk(db, ADMIN, cohort.programme.id, quiet_weeks=6, limit=10, cursor=None, now=NOW)
    assert [(pair.mentor_name, len(pair.reasons)) for pair in quiet.items] == [("Grace", 2)]


def test_two_workers_keeping_one_programme_at_once_end_where_a_rebuild_does(
        seed: Session, committed: sessionmaker[Session]) -> None:
    """Two batches of one programme at once, in their own transactions, touch the same weeks and pairings; they
    take turns on the programme's lock and end where a rebuild does. (Their source rows are all committed first: the
    interleaving the lock is for, a batch computing before another's rows commit and writing after, is not forced.)"""
    cohort, recorded = _cohort(seed)
    seed.commit()
    halves = [recorded[0::2], recorded[1::2]]

    def keep(half: list[OutboxEvent]) -> int:
        with committed() as db, db.begin():
            tallies.handle_events(db, half)
        return len(half)

    assert concurrently([lambda half=half: keep(half) for half in halves]) == [len(half) for half in halves]
    with committed() as db:
        kept = _kept(db, cohort.programme.id)
    with committed() as db, db.begin():
        tallies.rebuild(db, cohort.programme.id)
    with committed() as db:
        assert kept[0] and _kept(db, cohort.programme.id) == kept
