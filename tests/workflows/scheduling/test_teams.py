"""Teams and the mentor a request goes to (``workflows/scheduling/teams.py``), called directly: the refusals of a lone
teacher, and the order of preference among a team's free members. Requests racing for one team are
``test_overlap_guarantees.py``'s."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from models import (
    AvailabilityWindow,
    BookingStatus,
    BusyInterval,
    CalendarConnection,
    CalendarSource,
    Listing,
    ListingMember,
    MentorProfile,
    User,
)
from tests.database import refused
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory, MentorProfileFactory
from workflows.bookings import requests
from workflows.errors import BusinessRuleViolation, Conflict
from workflows.scheduling import teams
from workflows.scheduling.rules import ListingRules

NOW = datetime(2031, 2, 1, 8, tzinfo=UTC)
START = datetime(2031, 2, 3, 9, tzinfo=UTC)  # a Monday
END = START + timedelta(hours=1)


def team(db: Session, size: int = 3) -> tuple[Listing, list[MentorProfile]]:
    listing = ListingFactory()
    members = [MentorProfileFactory() for _ in range(size)]
    for position, member in enumerate(members):
        db.add(ListingMember(listing_id=listing.id, mentor_profile_id=member.id, position=position))
    db.flush()
    return listing, members


def chosen(db: Session, listing: Listing, mentee: User | None = None, requested: uuid.UUID | None = None
           ) -> MentorProfile:
    return teams.assign_mentor(db, actor_of(mentee or UserFactory()), listing, ListingRules.of(listing),
                               requested=requested, start=START, end=END, now=NOW)


def draft_of(member: MentorProfile, listing: Listing, start: datetime = START) -> None:
    BookingFactory(listing=listing, mentor_profile_id=member.id, start_time=start, end_time=start + timedelta(hours=1))


def accepted_of(member: MentorProfile, listing: Listing, start: datetime) -> None:
    BookingFactory(listing=listing, mentor_profile_id=member.id, status=BookingStatus.ACCEPTED, start_time=start,
                   end_time=start + timedelta(hours=1))


def test_among_free_members_the_choice_prefers_no_overlapping_request_then_fewest_sessions_to_come(
        db: Session) -> None:
    listing, (first, second, third) = team(db)
    assert chosen(db, listing) == first  # all alike: the team's order
    draft_of(first, listing)
    assert chosen(db, listing) == second  # the first has a request pending at that time
    accepted_of(second, listing, START + timedelta(days=1))
    assert chosen(db, listing) == third  # the second has a session to come
    draft_of(second, listing)
    draft_of(third, listing)
    draft_of(first, listing, START + timedelta(minutes=30))
    # All have a request at that time now: fewest sessions to come, then fewest such requests.
    assert chosen(db, listing) == third  # none to come, one request; the first has none to come but two
    accepted_of(third, listing, START + timedelta(days=2))
    assert chosen(db, listing) == first  # the only one with no session to come, though it has the most requests
    accepted_of(first, listing, START + timedelta(days=3))
    assert chosen(db, listing) == second  # one session each: the second has one request pending, the first two


def test_a_member_busy_outside_their_windows_or_the_mentee_themselves_is_never_chosen(db: Session) -> None:
    listing, (first, second, third) = team(db)
    accepted_of(first, listing, START + timedelta(minutes=30))
    second.availability.append(AvailabilityWindow(id=uuid.uuid4(), weekday=START.weekday(), start_minute=13 * 60,
                                                  end_minute=18 * 60))
    db.flush()
    assert chosen(db, listing) == third
    error = refused(db, Conflict, lambda: chosen(db, listing, mentee=third.user))
    assert error.message == "no mentor of this listing's team is free at that time"
    second.availability.clear()
    db.flush()
    assert chosen(db, listing, mentee=third.user) == second


def test_a_team_none_of_whose_members_works_then_is_refused(db: Session) -> None:
    listing, members = team(db, size=2)
    for member in members:
        member.availability.append(AvailabilityWindow(id=uuid.uuid4(), weekday=START.weekday() + 1,
                                                      start_minute=0, end_minute=1440))
    db.flush()
    error = refused(db, Conflict, lambda: chosen(db, listing))
    assert (error.message, error.details) == ("outside the availability of every mentor of this listing's team",
                                              {"rule": "hours"})


def test_a_named_mentor_must_teach_the_listing(db: Session) -> None:
    listing, (_first, second, _third) = team(db)
    assert chosen(db, listing, requested=second.id) == second
    error = refused(db, BusinessRuleViolation, lambda: chosen(db, listing, requested=listing.mentor_profile_id))
    assert error.message == "this mentor does not teach this listing"  # a team's owner teaches only as a member


def test_a_lone_teacher_is_refused_to_themselves_outside_their_windows_and_when_taken(db: Session) -> None:
    """The lone teacher is chosen at once; the request then checks their rules under their lock."""
    listing = ListingFactory()
    mentor = listing.mentor_profile
    own = refused(db, BusinessRuleViolation, lambda: chosen(db, listing, mentee=mentor.user))
    assert own.message == "you cannot book a session with yourself"
    mentor.timezone = "Europe/Paris"
    mentor.availability.append(AvailabilityWindow(id=uuid.uuid4(), weekday=START.weekday(), start_minute=13 * 60,
                                                  end_minute=18 * 60))
    db.flush()

    def request() -> object:
        return requests.request_booking(db, actor_of(UserFactory()), listing_id=listing.id, start_time=START, now=NOW)

    outside = refused(db, Conflict, request)
    assert (outside.message, outside.details) == (
        "outside the mentor's availability (hours are in Europe/Paris)", {"rule": "hours", "timezone": "Europe/Paris"})
    mentor.availability.clear()
    accepted_of(mentor, listing, START - timedelta(minutes=59))
    taken = refused(db, Conflict, request)  # another's booking: the mentee is told only that the mentor is not free
    assert (taken.message, taken.details) == ("the mentor is not available at that time", {"rule": "unavailable"})


def test_a_listing_without_members_is_taught_by_its_owner_alone(db: Session) -> None:
    plain = ListingFactory()
    shown = teams.get_team(db, plain.id)
    assert ([m.id for m in shown.members], shown.is_team, shown.invited) == ([plain.mentor_profile_id], False, None)
    listing, members = team(db, size=2)
    assert teams.team_sizes(db, [plain.id, listing.id]) == {plain.id: 1, listing.id: 2}
    assert teams.listings_taught_by(db, members[1].id, [plain, listing]) == {listing.id}
    assert teams.listings_taught_by(db, plain.mentor_profile_id, [plain, listing]) == {plain.id}


def test_a_member_whose_own_calendar_is_busy_is_not_chosen(db: Session) -> None:
    listing, members = team(db, size=2)
    connection = CalendarConnection(id=uuid.uuid4(), mentor_profile_id=members[0].id, kind="ics",
                                    host="calendar.example.com", credentials="sealed")
    db.add(connection)
    db.flush()
    source = CalendarSource(id=uuid.uuid4(), connection_id=connection.id, mentor_profile_id=members[0].id,
                            href="https://calendar.example.com/a.ics", name="Personal")
    db.add(source)
    db.flush()
    db.add(BusyInterval(mentor_profile_id=members[0].id, source_id=source.id, start_time=START - timedelta(minutes=30),
                        end_time=START + timedelta(minutes=15)))
    db.flush()
    assert chosen(db, listing).id == members[1].id
    db.add(BusyInterval(mentor_profile_id=members[1].id, source_id=source.id, start_time=START, end_time=END))
    db.flush()
    error = refused(db, Conflict, lambda: chosen(db, listing))
    assert error.message == "no mentor of this listing's team is free at that time"
