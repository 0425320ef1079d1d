from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import AvailabilityWindow, Booking, BookingStatus
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory, MentorProfileFactory


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def monday_of(year: int, month: int, day: int) -> datetime:
    moment = datetime(year, month, day, tzinfo=UTC)
    while moment.weekday() != 0:
        moment += timedelta(days=1)
    return moment


def test_slots_follow_windows_in_mentor_timezone_across_dst(client: FlaskClient, db: Session) -> None:
    profile = MentorProfileFactory(timezone="Europe/Paris")
    profile.availability.append(AvailabilityWindow(id=uuid.uuid4(), weekday=0, start_minute=9 * 60,
                                                   end_minute=11 * 60))
    listing = ListingFactory(mentor_profile=profile, duration_minutes=60)
    caller = as_caller(UserFactory())
    year = datetime.now(UTC).year + 1
    # Paris leaves summer time on the last Sunday of October: the Mondays either side.
    before, after = monday_of(year, 10, 19), monday_of(year, 10, 26)
    if after.day < 26:
        before = after - timedelta(days=7)
    url = f"/api/v1/listings/{listing.id}/slots?from={iso(before)}&to={iso(after + timedelta(days=1))}"
    starts = [s["start_time"] for s in client.get(url, headers=caller.headers).get_json()["items"]]
    # 09:00 and 10:00 Paris: 07:00/08:00 UTC in summer time, 08:00/09:00 UTC after the change.
    assert starts == [
        iso(before.replace(hour=7)).replace("Z", "+00:00"), iso(before.replace(hour=8)).replace("Z", "+00:00"),
        iso(after.replace(hour=8)).replace("Z", "+00:00"), iso(after.replace(hour=9)).replace("Z", "+00:00"),
    ]


def test_slots_skip_commitments_and_the_past(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory(duration_minutes=120)
    listing.mentor_profile.availability.append(
        AvailabilityWindow(id=uuid.uuid4(), weekday=2, start_minute=8 * 60, end_minute=16 * 60))
    caller = as_caller(UserFactory())
    wednesday = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=14)
    while wednesday.weekday() != 2:
        wednesday += timedelta(days=1)
    start = wednesday.replace(hour=10)
    db.add(Booking(id=uuid.uuid4(), listing_id=listing.id, mentor_profile_id=listing.mentor_profile_id,
                   mentee_user_id=UserFactory().id, start_time=start, end_time=start + timedelta(hours=2),
                   status=BookingStatus.ACCEPTED, price_cents=1, currency="USD"))
    db.flush()
    url = f"/api/v1/listings/{listing.id}/slots?from={iso(wednesday)}&to={iso(wednesday + timedelta(days=1))}"
    hours = [datetime.fromisoformat(s["start_time"]).hour
             for s in client.get(url, headers=caller.headers).get_json()["items"]]
    assert hours == [8, 12, 14]
    past = datetime.now(UTC) - timedelta(days=3)
    url = f"/api/v1/listings/{listing.id}/slots?from={iso(past)}&to={iso(past + timedelta(days=2))}"
    assert client.get(url, headers=caller.headers).get_json()["items"] == []


def test_slots_range_rules(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory()
    caller = as_caller(UserFactory())
    start = datetime.now(UTC)
    too_long = client.get(f"/api/v1/listings/{listing.id}/slots?from={iso(start)}&to={iso(start + timedelta(days=63))}",
                          headers=caller.headers)
    assert too_long.status_code == 400 and "62 days" in too_long.get_json()["message"]
    backwards = client.get(f"/api/v1/listings/{listing.id}/slots?from={iso(start)}&to={iso(start)}",
                           headers=caller.headers)
    assert backwards.status_code == 400
    assert client.get(f"/api/v1/listings/{listing.id}/slots?from=yesterday&to={iso(start)}",
                      headers=caller.headers).status_code == 422
    # No windows: any time, stepping by the duration from local midnight.
    day = (start + timedelta(days=3)).replace(hour=0, minute=0, second=0, microsecond=0)
    items = client.get(f"/api/v1/listings/{listing.id}/slots?from={iso(day)}&to={iso(day + timedelta(days=1))}",
                       headers=caller.headers).get_json()["items"]
    assert len(items) == 24
