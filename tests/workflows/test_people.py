"""The people of bookings and sessions by name (``workflows/people.py``), called directly: a group session's
participants are its mentor's to see. That no response of a
journey shows another mentee or an email is the API tests' (``tests/api/test_people.py``,
``tests/api/test_mentee_privacy.py``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from models import MentorProfile, User
from tests.database import refused
from tests.factories import UserFactory, actor_of, group_session, make_session
from workflows import people, sessions
from workflows.errors import NotFound

START = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)


def test_a_group_sessions_participants_are_named_to_its_mentor_and_to_no_one_else(db: Session) -> None:
    session, mentees = group_session(db, START, seats=2)
    mentor = db.get_one(MentorProfile, session.mentor_profile_id).user
    names = [db.get_one(User, m).display_name for m in mentees]
    (as_mentor,) = people.name_sessions(db, actor_of(mentor), [session])
    (as_mentee,) = people.name_sessions(db, actor_of(db.get_one(User, mentees[0])), [session])
    assert sorted(p.display_name for p in as_mentor.participants or []) == sorted(names)
    assert (as_mentee.participants, as_mentee.mentee, as_mentee.mentor.id) == (None, None, session.mentor_profile_id)
    assert sorted(p.id for p in people.session_participants(db, actor_of(mentor), session.id)) == sorted(mentees)
    for outsider in (db.get_one(User, mentees[0]), UserFactory(is_admin=True)):
        error = refused(db, NotFound, lambda who=outsider: people.session_participants(db, actor_of(who), session.id))
        assert error.message == "session not found"


def test_a_cancelled_group_session_still_names_those_whose_seats_its_cancellation_ended(db: Session) -> None:
    session, mentees = group_session(db, START, seats=2)
    mentor = db.get_one(MentorProfile, session.mentor_profile_id).user
    sessions.cancel_session(db, actor_of(mentor), session.id, reason="ill", now=START - timedelta(days=1))
    assert sorted(p.id for p in people.session_participants(db, actor_of(mentor), session.id)) == sorted(mentees)


def test_an_individual_session_names_its_mentee_by_user_and_its_mentor_by_profile(db: Session) -> None:
    mentor, mentee, session = make_session(db, START)
    (named,) = people.name_sessions(db, actor_of(mentee.user), [session])
    assert (named.mentor.id, named.mentor.display_name) == (session.mentor_profile_id, mentor.user.display_name)
    assert named.mentee == people.Person(mentee.user.id, mentee.user.display_name)
