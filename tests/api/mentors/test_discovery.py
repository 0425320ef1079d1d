"""Finding what to book: listings by filters and free time, group sessions across listings, and who takes part."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import (
    AvailabilityWindow,
    Booking,
    BookingStatus,
    Listing,
    ListingKind,
    ListingMember,
    MentorshipSession,
    SessionStatus,
    Skill,
)
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory, MentorProfileFactory
from tests.factories.sessions import GroupSessionFactory, make_session
from workflows.mentors import listings
from workflows.mentors.profiles import ensure_skills


def skill(db: Session) -> Skill:
    (row,) = ensure_skills(db, [f"discovery {uuid.uuid4().hex[:8]}"])
    return row


def wednesday_in_two_weeks() -> datetime:
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=14)
    while day.weekday() != 2:
        day += timedelta(days=1)
    return day


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def ids(response: object) -> list[str]:
    return [item["id"] for item in response.get_json()["items"]]  # type: ignore[attr-defined]


def test_listings_are_filtered_by_kind_and_price(client: FlaskClient, db: Session) -> None:
    topic = skill(db)
    cheap = ListingFactory(skill=topic, price_cents=1000)
    dear = ListingFactory(skill=topic, price_cents=9000)
    group = ListingFactory(skill=topic, price_cents=500, kind=ListingKind.GROUP.value, capacity=5)
    caller = as_caller(UserFactory())
    url = f"/api/v1/listings?skill={topic.name}"
    assert set(ids(client.get(url, headers=caller.headers))) == {str(cheap.id), str(dear.id), str(group.id)}
    assert set(ids(client.get(f"{url}&max_price_cents=1000", headers=caller.headers))) == {str(cheap.id),
                                                                                         str(group.id)}
    assert ids(client.get(f"{url}&max_price_cents=1000&kind=individual", headers=caller.headers)) == [str(cheap.id)]
    for bad in ("kind=team", "max_price_cents=-1", "max_price_cents=x"):
        refused = client.get(f"{url}&{bad}", headers=caller.headers)
        assert refused.status_code == 422 and refused.get_json()["message"], bad


def test_listings_with_a_free_slot_in_a_window_page_after_the_last_one_checked(
        client: FlaskClient, db: Session) -> None:
    topic, day = skill(db), wednesday_in_two_weeks()
    first = datetime.now(UTC) - timedelta(days=1)
    free, busy, other_day, inactive, also_free = (
        ListingFactory(skill=topic, duration_minutes=120, created_at=first + timedelta(minutes=i)) for i in range(5))
    for listing, weekday in ((free, 2), (busy, 2), (other_day, 4), (inactive, 2), (also_free, 2)):
        listing.mentor_profile.availability.append(
            AvailabilityWindow(id=uuid.uuid4(), weekday=weekday, start_minute=8 * 60, end_minute=10 * 60))
    inactive.active = False
    db.add(Booking(id=uuid.uuid4(), listing_id=busy.id, mentor_profile_id=busy.mentor_profile_id,
                   mentee_user_id=UserFactory().id, start_time=day.replace(hour=8), end_time=day.replace(hour=10),
                   status=BookingStatus.ACCEPTED, price_cents=1, currency="USD"))
    db.flush()
    caller = as_caller(UserFactory())
    url = f"/api/v1/listings?skill={topic.name}&has_free_slot_between={iso(day)},{iso(day + timedelta(days=1))}"
    assert ids(client.get(url, headers=caller.headers)) == [str(free.id), str(also_free.id)]
    page = client.get(f"{url}&limit=1", headers=caller.headers).get_json()
    assert [item["id"] for item in page["items"]] == [str(free.id)] and page["next_cursor"]
    rest = client.get(f"{url}&limit=1&cursor={page['next_cursor']}", headers=caller.headers).get_json()
    assert ([item["id"] for item in rest["items"]], rest["next_cursor"]) == ([str(also_free.id)], None)


def test_a_free_slot_search_page_reads_a_bounded_number_of_calendars(
        client: FlaskClient, db: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    topic, day = skill(db), wednesday_in_two_weeks()
    first = datetime.now(UTC) - timedelta(days=1)

    def taught_by(size: int, *, busy: bool, minute: int) -> Listing:
        members = [MentorProfileFactory() for _ in range(size)]
        made = ListingFactory(skill=topic, mentor_profile=members[0], duration_minutes=120,
                              created_at=first + timedelta(minutes=minute))
        db.add_all(ListingMember(listing_id=made.id, mentor_profile_id=m.id, position=i)
                   for i, m in enumerate(members) if size > 1)
        for member in members:
            member.availability.append(
                AvailabilityWindow(id=uuid.uuid4(), weekday=2, start_minute=8 * 60, end_minute=10 * 60))
            if busy:
                db.add(Booking(id=uuid.uuid4(), listing_id=made.id, mentor_profile_id=member.id,
                               mentee_user_id=UserFactory().id, start_time=day.replace(hour=8),
                               end_time=day.replace(hour=10), status=BookingStatus.ACCEPTED, price_cents=1,
                               currency="USD"))
        db.flush()
        return made

    taught_by(3, busy=True, minute=0)
    taught_by(1, busy=True, minute=1)
    free_team, free_one = taught_by(2, busy=False, minute=2), taught_by(1, busy=False, minute=3)
    caller = as_caller(UserFactory())
    url = f"/api/v1/listings?skill={topic.name}&has_free_slot_between={iso(day)},{iso(day + timedelta(days=1))}"

    def pages() -> list[list[str]]:
        found, cursor = [], ""
        while True:
            page = client.get(url + cursor, headers=caller.headers).get_json()
            found.append([item["id"] for item in page["items"]])
            if page["next_cursor"] is None:
                return found
            cursor = f"&cursor={page['next_cursor']}"

    # Four calendars a page: the two busy listings take them all, and the page is empty but has a next one.
    monkeypatch.setattr(listings, "FREE_SLOT_CALENDARS", 4)
    assert pages() == [[], [str(free_team.id), str(free_one.id)]]
    # Two a page: a team larger than that is still checked, alone on its page, so the search moves on.
    monkeypatch.setattr(listings, "FREE_SLOT_CALENDARS", 2)
    assert pages() == [[], [], [str(free_team.id)], [str(free_one.id)]]


def test_a_free_slot_window_must_be_two_ordered_times_at_most_31_days_apart(client: FlaskClient, db: Session) -> None:
    caller, start = as_caller(UserFactory()), wednesday_in_two_weeks()
    for window in (iso(start), f"{iso(start)},{iso(start)}", f"{iso(start)},{iso(start + timedelta(days=32))}",
                   f"yesterday,{iso(start)}", f"{iso(start)},{iso(start)},{iso(start)}", "x" * 101):
        refused = client.get(f"/api/v1/listings?has_free_slot_between={window}", headers=caller.headers)
        assert refused.status_code == 422 and refused.get_json()["message"], window


def group_session(listing: object, start: datetime, *, status: SessionStatus = SessionStatus.SCHEDULED,
                  seats: int = 0) -> MentorshipSession:
    session: MentorshipSession = GroupSessionFactory.build(listing=listing, start_time=start, status=status,
                                                           capacity=2, seats_taken=seats)
    return session


def test_upcoming_group_sessions_across_listings_with_their_seats(client: FlaskClient, db: Session) -> None:
    topic, soon = skill(db), datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    one = ListingFactory(skill=topic, kind=ListingKind.GROUP.value, capacity=2)
    two = ListingFactory(skill=topic, kind=ListingKind.GROUP.value, capacity=2)
    later = group_session(one, soon + timedelta(days=3), seats=2)
    first = group_session(two, soon, seats=1)
    past = group_session(one, soon - timedelta(days=5))
    cancelled = group_session(two, soon + timedelta(days=1), status=SessionStatus.CANCELLED)
    db.add_all([later, first, past, cancelled])
    db.flush()
    caller = as_caller(UserFactory())
    body = client.get(f"/api/v1/group-sessions?skill={topic.name}", headers=caller.headers).get_json()
    assert [(s["id"], s["capacity"], s["seats_taken"], s["seats_left"], s["full"]) for s in body["items"]] == [
        (str(first.id), 2, 1, 1, False), (str(later.id), 2, 2, 0, True)]
    assert ids(client.get(f"/api/v1/group-sessions?listing_id={one.id}", headers=caller.headers)) == [str(later.id)]
    window = f"from={iso(soon + timedelta(days=1))}&to={iso(soon + timedelta(days=4))}"
    assert ids(client.get(f"/api/v1/group-sessions?skill={topic.name}&{window}",
                          headers=caller.headers)) == [str(later.id)]
    backwards = client.get(f"/api/v1/group-sessions?from={iso(soon)}&to={iso(soon)}", headers=caller.headers)
    assert backwards.status_code == 422 and backwards.get_json()["message"]
    assert client.get("/api/v1/group-sessions").status_code == 401


def test_only_the_mentor_sees_who_takes_part(client: FlaskClient, db: Session) -> None:
    mentor, mentee, session = make_session(db, datetime.now(UTC) + timedelta(days=2))
    url = f"/api/v1/sessions/{session.id}/participants"
    shown = client.get(url, headers=mentor.headers)
    assert shown.status_code == 200
    assert shown.get_json()["items"] == [{"id": str(mentee.user.id), "display_name": mentee.user.display_name}]
    for other in (mentee, as_caller(UserFactory())):
        hidden = client.get(url, headers=other.headers)
        assert hidden.status_code == 404 and hidden.get_json()["message"] == "session not found"
    assert client.get(f"/api/v1/sessions/{uuid.uuid4()}/participants", headers=mentor.headers).status_code == 404


def test_a_group_sessions_participants_are_its_seat_holders(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=5)
    mentor = as_caller(listing.mentor_profile.user)
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    session = client.post(f"/api/v1/listings/{listing.id}/group-sessions", json={"start_time": iso(start)},
                          headers=mentor.headers).get_json()
    seated = [as_caller(UserFactory()) for _ in range(2)]
    for mentee in seated:
        assert client.post(f"/api/v1/sessions/{session['id']}/join", headers=mentee.headers).status_code == 201
    shown = client.get(f"/api/v1/sessions/{session['id']}/participants", headers=mentor.headers).get_json()
    # In order of joining; the joins here share one transaction, hence one timestamp: compared as a set.
    assert sorted(p["id"] for p in shown["items"]) == sorted(str(m.user.id) for m in seated)
    assert client.get(f"/api/v1/sessions/{session['id']}/participants", headers=seated[0].headers).status_code == 404
