"""Reviews (``workflows/sessions/reviews.py``), called directly: who may review and when, once each, the mentor's
rating over the visible reviews, and how a review names its author in public."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import BookingStatus, MentorProfile, MentorshipSession, OutboxEvent, Review, ReviewEligibility
from tests.database import events_of, refused
from tests.factories.accounts import Caller, UserFactory, actor_of
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory
from tests.factories.sessions import group_session, make_session
from workflows.errors import Conflict, Forbidden, NotFound
from workflows.sessions import lifecycle as sessions
from workflows.sessions import reviews

START = (datetime.now(UTC) + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)


def complete(db: Session, mentor_user_id: uuid.UUID, session: MentorshipSession) -> OutboxEvent:
    """Start and complete the session as its mentor; its ``session.completed`` event."""
    mentor = actor_of(db.get_one(MentorProfile, session.mentor_profile_id).user)
    assert mentor.user_id == mentor_user_id
    sessions.start_session(db, mentor, session.id, now=session.start_time)
    sessions.complete_session(db, mentor, session.id, now=session.end_time)
    return db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == session.id,
                                                OutboxEvent.type == "session.completed")).one()


def completed_and_unlocked(db: Session, start: datetime = START) -> tuple[Caller, Caller, MentorshipSession]:
    mentor, mentee, session = make_session(db, start)
    reviews.handle_events(db, [complete(db, mentor.user.id, session)])
    return mentor, mentee, session


def review(db: Session, mentee: Caller, session: MentorshipSession, rating: int, **options: object) -> Review:
    return reviews.create_review(db, actor_of(mentee.user), session.id, rating=rating, comment="", **options)


def eligible(db: Session, session: MentorshipSession) -> set[uuid.UUID]:
    return set(db.scalars(select(ReviewEligibility.mentee_user_id).where(ReviewEligibility.session_id == session.id)))


def test_a_completed_session_unlocks_a_review_for_each_of_its_mentees_once(db: Session) -> None:
    mentor, mentee, individual = make_session(db, START)
    group, mentees = group_session(db, START + timedelta(days=1), seats=3)
    events = [complete(db, mentor.user.id, individual),
              complete(db, db.get_one(MentorProfile, group.mentor_profile_id).user_id, group)]
    reviews.handle_events(db, events)
    reviews.handle_events(db, events)  # delivered again: nothing more
    assert (eligible(db, individual), eligible(db, group)) == ({mentee.user.id}, set(mentees))
    assert len(db.scalars(select(ReviewEligibility)).all()) == 4


def test_other_events_unlock_nothing(db: Session) -> None:
    mentor, mentee, session = make_session(db, START)
    sessions.cancel_session(db, actor_of(mentor.user), session.id, reason="ill", now=START - timedelta(days=2))
    reviews.handle_events(db, list(db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == session.id))))
    assert eligible(db, session) == set()
    not_yet = refused(db, Forbidden, lambda: review(db, mentee, session, 5))
    assert not_yet.message == "not eligible yet: reviews open once the session is completed"


def test_the_mentee_reviews_once_and_the_mentors_rating_counts_it_with_its_event(db: Session) -> None:
    _mentor, mentee, session = completed_and_unlocked(db)
    posted = review(db, mentee, session, 4)
    profile = db.get_one(MentorProfile, session.mentor_profile_id)
    assert (profile.rating_average, profile.rating_count) == (Decimal("4.00"), 1)
    assert events_of(db, posted.id) == [("review.created", f"user:{mentee.user.id}")]
    twice = refused(db, Conflict, lambda: review(db, mentee, session, 1))
    assert twice.message == "you already reviewed this session"
    db.refresh(profile)
    assert (profile.rating_average, profile.rating_count) == (Decimal("4.00"), 1)


def test_only_the_mentee_reviews_and_a_stranger_does_not_see_the_session(db: Session) -> None:
    mentor, _mentee, session = completed_and_unlocked(db)
    by_mentor = refused(db, Forbidden, lambda: review(db, mentor, session, 5))
    assert by_mentor.message == "only the session's mentee can review it"
    stranger = refused(db, NotFound, lambda: review(db, Caller(UserFactory()), session, 5))
    assert stranger.message == "session not found"


def test_the_rating_is_the_average_of_the_visible_reviews_to_the_hundredth(db: Session) -> None:
    listing = ListingFactory()
    posted = []
    for day, rating in enumerate((5, 4, 4)):
        mentee = UserFactory()
        booking = BookingFactory(listing=listing, mentee_user_id=mentee.id, status=BookingStatus.ACCEPTED,
                                 start_time=START + timedelta(days=day))
        session = sessions.create_session_from_booking(db, booking.id)
        assert session is not None
        reviews.handle_events(db, [complete(db, listing.mentor_profile.user_id, session)])
        posted.append(review(db, Caller(mentee), session, rating))
    profile = listing.mentor_profile
    assert (profile.rating_average, profile.rating_count) == (Decimal("4.33"), 3)
    reviews.hide_review(db, posted[0].id, reason="abusive")
    assert (profile.rating_average, profile.rating_count) == (Decimal("4.00"), 2)
    page = reviews.list_reviews(db, profile.id, limit=10, cursor=None)
    assert {r.review.id for r in page.items} == {posted[1].id, posted[2].id}


@pytest.mark.parametrize(("display_name", "anonymous", "deleted", "shown"), [
    ("Grace Brewster Hopper", False, False, "Grace H."),
    ("grace hopper", False, False, "grace H."),
    ("Grace", False, False, "Grace"),
    ("   ", False, False, "A mentee"),
    ("Grace Hopper", True, False, "A mentee"),
    ("Grace Hopper", False, True, "A mentee"),
])
def test_a_review_names_its_author_by_first_name_and_initial_unless_anonymous_or_deleted(
        display_name: str, anonymous: bool, deleted: bool, shown: str) -> None:
    assert reviews.public_name(display_name, anonymous=anonymous, deleted=deleted) == shown


def test_the_reviews_of_an_unknown_mentor_are_not_found(db: Session) -> None:
    error = refused(db, NotFound, lambda: reviews.list_reviews(db, uuid.uuid4(), limit=10, cursor=None))
    assert error.message == "mentor profile not found"
