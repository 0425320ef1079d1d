"""factory_boy factories on the test's session, sessions made as the workflows make them, and helpers to act
as a user."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import factory
import pytest
from sqlalchemy.orm import Session

from api.security import issue_token
from models import Booking, BookingStatus, Listing, ListingKind, MentorProfile, MentorshipSession, SessionStatus, User
from workflows.accounts.users import hash_password
from workflows.actors import Actor
from workflows.sessions import lifecycle as session_flow

PASSWORD = "correct horse battery staple"
_PASSWORD_HASH = hash_password(PASSWORD)  # hashed once: argon2 is slow on purpose


class _Base(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_persistence = "flush"


class UserFactory(_Base):
    class Meta:
        model = User

    id = factory.LazyFunction(uuid.uuid4)
    email = factory.Sequence(lambda n: f"user{n}-{uuid.uuid4().hex[:6]}@example.com")
    display_name = factory.Sequence(lambda n: f"User {n}")
    password_hash = _PASSWORD_HASH
    is_admin = False
    # Verified unless a test asks otherwise (email_verified_at=None): most tests are not about addresses.
    email_verified_at = factory.LazyFunction(lambda: datetime.now(UTC))


class MentorProfileFactory(_Base):
    class Meta:
        model = MentorProfile

    id = factory.LazyFunction(uuid.uuid4)
    user = factory.SubFactory(UserFactory)
    headline = "Backend mentor"
    bio = ""
    timezone = "UTC"


class ListingFactory(_Base):
    class Meta:
        model = Listing

    id = factory.LazyFunction(uuid.uuid4)
    mentor_profile = factory.SubFactory(MentorProfileFactory)
    skill = factory.LazyAttribute(lambda _o: _skill("python"))
    title = "Code review"
    description = ""
    duration_minutes = 60
    price_cents = 5000
    currency = "USD"
    kind = ListingKind.INDIVIDUAL.value
    capacity = None


class BookingFactory(_Base):
    """A draft on a new listing, two days ahead, by a new mentee."""

    class Meta:
        model = Booking

    id = factory.LazyFunction(uuid.uuid4)
    listing = factory.SubFactory(ListingFactory)
    mentor_profile_id = factory.SelfAttribute("listing.mentor_profile_id")
    mentee_user_id = factory.LazyFunction(lambda: UserFactory().id)
    start_time = factory.LazyFunction(lambda: datetime.now(UTC) + timedelta(days=2))
    end_time = factory.LazyAttribute(lambda o: o.start_time + timedelta(hours=1))
    status = BookingStatus.DRAFT
    price_cents = 1
    currency = "USD"


def _skill(name: str) -> object:
    from workflows.mentors.profiles import ensure_skills

    session = _Base._meta.sqlalchemy_session
    assert session is not None
    (skill,) = ensure_skills(session, [name])
    return skill


FACTORIES: tuple[type[_Base], ...] = (UserFactory, MentorProfileFactory, ListingFactory, BookingFactory)


@pytest.fixture(autouse=True)
def _bind_factories(request: pytest.FixtureRequest) -> Iterator[None]:
    """Bind the factories to the test's session: the savepoint one (``db``) or a committing one (``seed``)."""
    name = next((n for n in ("db", "seed") if n in request.fixturenames), None)
    if name is None:
        yield
        return
    session: Session = request.getfixturevalue(name)
    for cls in (_Base, *FACTORIES):
        cls._meta.sqlalchemy_session = session
    yield
    for cls in (_Base, *FACTORIES):
        cls._meta.sqlalchemy_session = None


@dataclass
class Caller:
    """A user and the headers that authenticate as them."""

    user: User

    @property
    def headers(self) -> dict[str, str]:
        token, _ttl = issue_token(self.user.id, self.user.token_version)
        return {"Authorization": f"Bearer {token}"}


def as_caller(user: User) -> Caller:
    return Caller(user)


def actor_of(user: User) -> Actor:
    """The user as the domain sees them act, as a verified token establishes them: with their mentor
    profile if they have one, and admin if they are."""
    profile = user.mentor_profile
    return Actor(user.id, is_admin=user.is_admin, mentor_profile_id=profile.id if profile else None)


def make_session(db: Session, start: datetime) -> tuple[Caller, Caller, MentorshipSession]:
    """An accepted booking and its session, created by the workflow the worker runs."""
    listing = ListingFactory(price_cents=8000)
    mentee = UserFactory()
    booking = Booking(id=uuid.uuid4(), listing_id=listing.id, mentor_profile_id=listing.mentor_profile_id,
                      mentee_user_id=mentee.id, start_time=start, end_time=start + timedelta(hours=1),
                      status=BookingStatus.ACCEPTED, price_cents=8000, currency="USD")
    db.add(booking)
    db.flush()
    session = session_flow.create_session_from_booking(db, booking.id)
    assert session is not None
    return as_caller(listing.mentor_profile.user), as_caller(mentee), session


def individual_session(db: Session, start: datetime, *, mentee_timezone: str | None = None,
                       mentor_timezone: str = "Europe/Paris") -> MentorshipSession:
    """A scheduled individual session of an accepted booking, written as rows (no workflow runs, no event)."""
    booking = BookingFactory(status=BookingStatus.ACCEPTED, start_time=start, end_time=start + timedelta(hours=1),
                             mentee_user_id=UserFactory(timezone=mentee_timezone).id)
    db.get_one(MentorProfile, booking.mentor_profile_id).timezone = mentor_timezone
    session = MentorshipSession(
        id=uuid.uuid4(), kind=ListingKind.INDIVIDUAL, booking_id=booking.id, listing_id=booking.listing_id,
        mentor_profile_id=booking.mentor_profile_id, mentee_user_id=booking.mentee_user_id,
        start_time=start, end_time=start + timedelta(hours=1), status=SessionStatus.SCHEDULED)
    db.add(session)
    db.flush()
    return session


def group_session(db: Session, start: datetime, seats: int) -> tuple[MentorshipSession, list[uuid.UUID]]:
    """A scheduled group session of five places, ``seats`` of them held; the session and its mentees' ids."""
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=5, title="Design clinic")
    session = MentorshipSession(
        id=uuid.uuid4(), kind=ListingKind.GROUP, listing_id=listing.id, mentor_profile_id=listing.mentor_profile_id,
        start_time=start, end_time=start + timedelta(hours=1), status=SessionStatus.SCHEDULED, capacity=5,
        seats_taken=seats)
    db.add(session)
    db.flush()
    mentees = [UserFactory().id for _ in range(seats)]
    for mentee in mentees:
        BookingFactory(listing=listing, mentee_user_id=mentee, status=BookingStatus.ACCEPTED,
                       start_time=start, end_time=start + timedelta(hours=1), group_session_id=session.id)
    return session, mentees
