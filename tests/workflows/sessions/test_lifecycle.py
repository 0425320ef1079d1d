"""Sessions (``workflows/sessions/lifecycle.py``), called directly: one per accepted booking, the start window, what
completion and cancellation record, the cancellation policy at its boundaries, and the mentor's changes.

Who may make which move, and from which status, is ``test_state_machine.py``'s."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import Booking, BookingStatus, MentorProfile, MentorshipSession, OutboxEvent, SessionStatus, User
from tests.database import events_of, plans, refused
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.bookings import BookingFactory
from tests.factories.sessions import group_session, make_session
from workflows.errors import BusinessRuleViolation, Forbidden, NotFound
from workflows.sessions import lifecycle as sessions

START = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
TEMPLATE = "https://meet.example.com/{room}"


def stored(db: Session, session: MentorshipSession) -> MentorshipSession:
    db.flush()
    db.expire_all()
    return db.get_one(MentorshipSession, session.id)


def test_an_accepted_booking_makes_one_scheduled_session_of_its_time_and_people(db: Session) -> None:
    booking = BookingFactory(status=BookingStatus.ACCEPTED, start_time=START)
    made = sessions.create_session_from_booking(db, booking.id)
    assert made is not None
    assert (made.status, made.kind, made.booking_id, made.listing_id) == (
        SessionStatus.SCHEDULED, "individual", booking.id, booking.listing_id)
    assert (made.mentor_profile_id, made.mentee_user_id, made.start_time, made.end_time) == (
        booking.mentor_profile_id, booking.mentee_user_id, booking.start_time, booking.end_time)
    assert sessions.create_session_from_booking(db, booking.id) is None  # a second run makes nothing
    assert db.scalars(select(MentorshipSession.id).where(MentorshipSession.booking_id == booking.id)).all() == [made.id]
    assert events_of(db, made.id) == [("session.scheduled", "system")]


def test_a_booking_s_session_is_inserted_on_one_plan_not_planned_again_each_time(db: Session,
                                                                                 connection: Connection) -> None:
    """A session task's usual batch is one booking: its insert reuses its generic plan. Over an array of one,
    PostgreSQL found that plan dearer than one made for the values, and planned the insert again every time."""
    known = BookingFactory()
    # Other requests, so that the planner's statistics see a platform's table of bookings, not an empty one.
    db.execute(text("""
        INSERT INTO bookings (id, listing_id, mentor_profile_id, mentee_user_id, start_time, end_time, status,
                              price_cents, currency)
        SELECT gen_random_uuid(), listing_id, mentor_profile_id, mentee_user_id, start_time + n * interval '1 hour',
               end_time + n * interval '1 hour', 'draft', price_cents, currency
        FROM bookings, generate_series(1, 2000) AS n WHERE id = :known
    """), {"known": known.id})
    db.execute(text("ANALYZE bookings"))
    for hour in range(15):
        booking = BookingFactory(status=BookingStatus.ACCEPTED, start_time=START - timedelta(days=1, hours=hour))
        assert sessions.create_session_from_booking(db, booking.id) is not None
    [(generic, _custom)] = plans(connection, "INSERT INTO sessions")
    assert generic >= 5  # every run after the first five


def test_a_draft_and_a_seat_make_no_session(db: Session) -> None:
    draft = BookingFactory()
    group, _mentees = group_session(db, START, seats=1)
    seat = db.scalars(select(Booking).where(Booking.group_session_id == group.id)).one()
    assert sessions.create_session_from_booking(db, draft.id) is None
    assert sessions.create_session_from_booking(db, seat.id) is None
    assert db.scalars(select(MentorshipSession.id)).all() == [group.id]


def test_a_session_starts_from_the_early_minutes_before_its_start_until_its_end(db: Session) -> None:
    early = timedelta(minutes=get_settings().start_early_minutes)
    _mentor, mentee, session = make_session(db, START)
    opens = START - early
    too_early = refused(db, BusinessRuleViolation, lambda: sessions.start_session(
        db, actor_of(mentee.user), session.id, now=opens - timedelta(microseconds=1)))
    assert too_early.message == f"too early: a session can be started from {opens.isoformat()}"
    assert too_early.details == {"opens_at": opens.isoformat()}
    assert stored(db, session).status == SessionStatus.SCHEDULED
    started = sessions.start_session(db, actor_of(mentee.user), session.id, now=opens)
    assert (stored(db, started).status, stored(db, started).started_at) == (SessionStatus.IN_PROGRESS, opens)
    assert ("session.started", f"user:{mentee.user.id}") in events_of(db, session.id)


def test_a_session_cannot_be_started_once_its_end_has_come(db: Session) -> None:
    mentor, _mentee, session = make_session(db, START)
    ended = refused(db, BusinessRuleViolation, lambda: sessions.start_session(
        db, actor_of(mentor.user), session.id, now=session.end_time))
    assert ended.message == "this session's time has passed"
    last_moment = session.end_time - timedelta(microseconds=1)
    assert sessions.start_session(db, actor_of(mentor.user), session.id, now=last_moment).started_at == last_moment


def test_completing_records_when_by_whom_and_the_mentors_notes(db: Session) -> None:
    mentor, _mentee, session = make_session(db, START)
    sessions.start_session(db, actor_of(mentor.user), session.id, now=START)
    done_at = START + timedelta(minutes=50)
    sessions.complete_session(db, actor_of(mentor.user), session.id, notes="Split the module",
                              action_items=["write the tests first"], metadata={"topic": ["python"]}, now=done_at)
    completed = stored(db, session)
    assert (completed.status, completed.completed_at, completed.completed_by) == (
        SessionStatus.COMPLETED, done_at, "mentor")
    assert (completed.notes, completed.action_items, completed.session_metadata) == (
        "Split the module", ["write the tests first"], {"topic": ["python"]})
    assert ("session.completed", f"user:{mentor.user.id}") in events_of(db, session.id)


def test_completing_without_notes_records_empty_ones(db: Session) -> None:
    mentor, _mentee, session = make_session(db, START)
    sessions.start_session(db, actor_of(mentor.user), session.id, now=START)
    sessions.complete_session(db, actor_of(mentor.user), session.id, now=START)
    completed = stored(db, session)
    assert (completed.notes, completed.action_items, completed.session_metadata) == (None, [], {})


@pytest.mark.parametrize(("who", "before_start", "late", "fee"), [
    ("mentee", timedelta(0), False, 0),  # exactly the window before: in time
    ("mentee", -timedelta(microseconds=1), True, 4000),  # a moment later: late, half of 8000
    ("mentor", -timedelta(hours=23), False, 0),  # a mentor is never late
], ids=["mentee-at-the-window", "mentee-inside-the-window", "mentor-inside-the-window"])
def test_a_mentee_cancelling_inside_the_window_pays_the_fee_and_nobody_else_does(
        db: Session, who: str, before_start: timedelta, late: bool, fee: int) -> None:
    mentor, mentee, session = make_session(db, START)
    caller = mentee if who == "mentee" else mentor
    now = START - timedelta(hours=get_settings().cancellation_window_hours) - before_start
    sessions.cancel_session(db, actor_of(caller.user), session.id, reason="a conflict", now=now)
    cancelled = stored(db, session)
    assert (cancelled.status, cancelled.cancelled_by, cancelled.cancel_reason, cancelled.cancelled_at) == (
        SessionStatus.CANCELLED, who, "a conflict", now)
    assert (cancelled.cancel_late, cancelled.cancel_fee_cents, cancelled.credit_refunded) == (late, fee, False)
    booking = db.get_one(Booking, session.booking_id)
    assert (booking.status, booking.cancel_late, booking.cancel_fee_cents) == (BookingStatus.CANCELLED, late, fee)
    assert ("session.cancelled", f"user:{caller.user.id}") in events_of(db, session.id)


def test_the_window_is_the_one_the_service_is_configured_with(db: Session, configure: Callable[..., None]) -> None:
    configure(CANCELLATION_WINDOW_HOURS="48")
    _mentor, mentee, session = make_session(db, START)
    sessions.cancel_session(db, actor_of(mentee.user), session.id, reason="ill", now=START - timedelta(hours=47))
    assert (stored(db, session).cancel_late, stored(db, session).cancel_fee_cents) == (True, 4000)


def test_an_admin_cancels_as_the_mentor_would_and_is_named_as_the_admin(db: Session) -> None:
    _mentor, _mentee, session = make_session(db, START)
    admin = UserFactory(is_admin=True)
    sessions.cancel_session_as_admin(db, actor_of(admin), session.id, reason="reported", now=START - timedelta(hours=1))
    cancelled = stored(db, session)
    assert (cancelled.status, cancelled.cancelled_by, cancelled.cancel_late, cancelled.cancel_fee_cents) == (
        SessionStatus.CANCELLED, "admin", False, 0)
    assert ("session.cancelled", f"admin:{admin.id}") in events_of(db, session.id)


def test_only_an_admin_cancels_through_the_admins_door_and_only_a_session_that_exists(db: Session) -> None:
    mentor, _mentee, session = make_session(db, START)
    not_admin = refused(db, Forbidden, lambda: sessions.cancel_session_as_admin(
        db, actor_of(mentor.user), session.id, reason="x"))
    assert not_admin.message == "administrators only"
    unknown = refused(db, NotFound, lambda: sessions.cancel_session_as_admin(
        db, actor_of(UserFactory(is_admin=True)), uuid.uuid4(), reason="x"))
    assert unknown.message == "session not found"
    assert stored(db, session).status == SessionStatus.SCHEDULED


def test_a_mentor_cancelling_a_group_session_ends_every_seat_without_fee_and_names_every_participant(
        db: Session) -> None:
    session, mentees = group_session(db, START, seats=3)
    mentor = db.get_one(MentorProfile, session.mentor_profile_id).user
    sessions.cancel_session(db, actor_of(mentor), session.id, reason="ill", now=START - timedelta(hours=1))
    seats = db.scalars(select(Booking).where(Booking.group_session_id == session.id)).all()
    assert {(s.status, s.cancel_late, s.cancel_fee_cents) for s in seats} == {(BookingStatus.CANCELLED, False, 0)}
    event = db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == session.id,
                                                 OutboxEvent.type == "session.cancelled")).one()
    assert sorted(event.payload["mentee_user_ids"]) == sorted(str(m) for m in mentees)
    assert stored(db, session).status == SessionStatus.CANCELLED


def test_a_mentee_leaving_a_group_session_gives_up_their_seat_and_the_session_goes_on(db: Session) -> None:
    session, (leaving, staying) = group_session(db, START, seats=2)
    sessions.cancel_session(db, actor_of(db.get_one(User, leaving)), session.id, reason="busy",
                            now=START - timedelta(days=2))
    after = stored(db, session)
    assert (after.status, after.seats_taken) == (SessionStatus.SCHEDULED, 1)
    seats = {seat.mentee_user_id: seat for seat in db.scalars(select(Booking).where(
        Booking.group_session_id == session.id))}
    assert (seats[leaving].status, seats[leaving].cancel_late) == (BookingStatus.CANCELLED, False)
    assert seats[staying].status == BookingStatus.ACCEPTED
    assert events_of(db, seats[leaving].id) == [("booking.cancelled", f"user:{leaving}")]
    assert events_of(db, session.id) == []


def test_the_mentor_changes_the_meeting_url_and_agenda_before_the_start_and_the_participants_are_told(
        db: Session) -> None:
    mentor, _mentee, session = make_session(db, START)
    changes = {"meeting_url": "https://meet.example.com/ours", "agenda": "Your pull request"}
    sessions.update_session_details(db, actor_of(mentor.user), session.id, changes,
                                    now=START - timedelta(microseconds=1))
    assert (stored(db, session).meeting_url, stored(db, session).agenda) == tuple(changes.values())
    assert ("session.updated", f"user:{mentor.user.id}") in events_of(db, session.id)
    sessions.update_session_details(db, actor_of(mentor.user), session.id, changes, now=START - timedelta(hours=1))
    assert [e for e in events_of(db, session.id) if e[0] == "session.updated"] == [
        ("session.updated", f"user:{mentor.user.id}")], "no change, no second event"


def test_only_the_mentor_changes_the_details_and_only_before_the_start(db: Session) -> None:
    mentor, mentee, session = make_session(db, START)
    changes = {"agenda": "late"}
    by_mentee = refused(db, Forbidden, lambda: sessions.update_session_details(
        db, actor_of(mentee.user), session.id, changes, now=START - timedelta(hours=1)))
    assert by_mentee.message == "only the mentor can change a session's meeting URL or agenda"
    at_start = refused(db, BusinessRuleViolation, lambda: sessions.update_session_details(
        db, actor_of(mentor.user), session.id, changes, now=START))
    assert at_start.message == "a session can be changed only before it starts (it is scheduled)"
    assert stored(db, session).agenda is None


def test_a_session_meets_at_the_mentors_url_else_an_online_listing_location_else_the_template(db: Session) -> None:
    _mentor, _mentee, session = make_session(db, START)
    room = f"https://meet.example.com/{session.meeting_room}"
    assert sessions.meeting_url(session, None, TEMPLATE) == room
    assert sessions.meeting_url(session, "Room 4, Main Street 1", TEMPLATE) == room  # a place is not a link
    assert sessions.meeting_url(session, "https://zoom.example.com/j/1", TEMPLATE) == "https://zoom.example.com/j/1"
    assert sessions.meeting_url(session, None, "") is None
    session.meeting_url = "https://meet.example.com/chosen"
    assert sessions.meeting_url(session, "https://zoom.example.com/j/1", TEMPLATE) == "https://meet.example.com/chosen"
