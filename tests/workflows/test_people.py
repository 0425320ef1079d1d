"""Bookings and sessions as responses show them (``workflows/people.py``), called directly: each booking with
its session and its people's names, and a group session's participants, its mentor's to see. That no response of a
journey shows another mentee or an email is the API tests' (``tests/api/accounts/test_people.py``,
``tests/api/mentors/test_mentee_privacy.py``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from models import Booking, BookingStatus, MentorProfile, User
from tests.database import counting, refused
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.bookings import BookingFactory
from tests.factories.sessions import group_session, make_session
from workflows import people as named
from workflows.errors import NotFound
from workflows.sessions import lifecycle as sessions

START = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)


def test_a_group_sessions_participants_are_named_to_its_mentor_and_to_no_one_else(db: Session) -> None:
    session, mentees = group_session(db, START, seats=2)
    mentor = db.get_one(MentorProfile, session.mentor_profile_id).user
    names = [db.get_one(User, m).display_name for m in mentees]
    (as_mentor,) = named.name_sessions(db, actor_of(mentor), [session])
    (as_mentee,) = named.name_sessions(db, actor_of(db.get_one(User, mentees[0])), [session])
    assert sorted(p.display_name for p in as_mentor.participants or []) == sorted(names)
    assert (as_mentee.participants, as_mentee.mentee, as_mentee.mentor.id) == (None, None, session.mentor_profile_id)
    assert sorted(p.id for p in named.session_participants(db, actor_of(mentor), session.id)) == sorted(mentees)
    for outsider in (db.get_one(User, mentees[0]), UserFactory(is_admin=True)):
        error = refused(db, NotFound, lambda who=outsider: named.session_participants(db, actor_of(who), session.id))
        assert error.message == "session not found"


def test_a_cancelled_group_session_still_names_those_whose_seats_its_cancellation_ended(db: Session) -> None:
    session, mentees = group_session(db, START, seats=2)
    mentor = db.get_one(MentorProfile, session.mentor_profile_id).user
    sessions.cancel_session(db, actor_of(mentor), session.id, reason="ill", now=START - timedelta(days=1))
    assert sorted(p.id for p in named.session_participants(db, actor_of(mentor), session.id)) == sorted(mentees)


def test_an_individual_session_names_its_mentee_by_user_and_its_mentor_by_profile(db: Session) -> None:
    mentor, mentee, session = make_session(db, START)
    (shown,) = named.name_sessions(db, actor_of(mentee.user), [session])
    assert (shown.mentor.id, shown.mentor.display_name) == (session.mentor_profile_id, mentor.user.display_name)
    assert shown.mentee == named.Person(mentee.user.id, mentee.user.display_name)


def test_a_page_of_bookings_is_named_with_its_sessions_in_three_queries(db: Session, connection: Connection) -> None:
    """A booking's session: the one made from it once accepted, a seat's group session; a draft has none
    and costs no lookup. The names of every mentor and mentee in one query, whatever the page's size; the pending
    requests' competitors in one more, only when the page has one."""
    draft = BookingFactory()
    accepted = BookingFactory(status=BookingStatus.ACCEPTED)
    waiting = BookingFactory(status=BookingStatus.ACCEPTED)  # accepted, its session not made yet
    db.flush()
    made = sessions.create_session_from_booking(db, accepted.id)
    group, _ = group_session(db, START + timedelta(days=1), seats=1)
    seat = db.scalars(select(Booking).where(Booking.group_session_id == group.id)).one()
    assert made is not None
    bookings = [draft, accepted, waiting, seat]
    with counting(connection) as counted:
        shown = named.name_bookings(db, bookings)
        assert counted() == 3  # the sessions of the accepted ones, every name at once, the drafts' competitors
    assert [s.session_id for s in shown] == [None, made.id, None, group.id]
    for view, booking in zip(shown, bookings, strict=True):
        mentee = db.get_one(User, booking.mentee_user_id)
        assert (view.mentee.id, view.mentee.display_name) == (mentee.id, mentee.display_name)
        assert view.mentor.id == booking.mentor_profile_id
    with counting(connection) as counted:
        assert [s.session_id for s in named.name_bookings(db, [draft])] == [None]
        assert counted() == 2  # a draft's names and competitors only
    with counting(connection) as counted:  # a decision's answer: its session is made once it commits
        shown = named.name_bookings(db, [accepted, seat], sessions_made=False)
        assert [s.session_id for s in shown] == [None, group.id]  # a seat's group session needs no lookup
        assert counted() == 1


def test_a_pending_request_counts_other_peoples_requests_its_accept_would_decline(db: Session) -> None:
    first = BookingFactory(start_time=START, end_time=START + timedelta(hours=1))
    mentor = first.mentor_profile_id
    overlapping = BookingFactory(mentor_profile_id=mentor, start_time=START + timedelta(minutes=30),
                                 end_time=START + timedelta(minutes=90))
    own_again = BookingFactory(mentor_profile_id=mentor, mentee_user_id=first.mentee_user_id,
                               start_time=START, end_time=START + timedelta(hours=1))
    touching = BookingFactory(mentor_profile_id=mentor, start_time=START + timedelta(hours=1),
                              end_time=START + timedelta(hours=2))
    elsewhere = BookingFactory(start_time=START, end_time=START + timedelta(hours=1))  # another mentor
    decided = BookingFactory(mentor_profile_id=mentor, status=BookingStatus.DECLINED, start_time=START,
                             end_time=START + timedelta(hours=1))
    db.flush()
    counted = named.competing_requests(db, [b.id for b in (first, overlapping, own_again, touching, elsewhere)])
    # The mentee's own other request and a declined one are no one else's; back-to-back times do not overlap.
    assert counted == {first.id: 1, overlapping.id: 3, own_again.id: 1, touching.id: 1}
    assert decided.id not in named.competing_requests(db, [decided.id])
