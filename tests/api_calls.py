"""Requests the API tests make of one another's resources: a booking request, a calendar feed's URL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient

from tests.factories import Caller


def future(days: int = 7, hour: int = 10) -> datetime:
    """``hour`` o'clock UTC, ``days`` days from today."""
    day = (datetime.now(UTC) + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def iso(moment: datetime) -> str:
    """As the API's clients write a UTC time: ``Z``, not ``+00:00``."""
    return moment.isoformat().replace("+00:00", "Z")


def request_booking(client: FlaskClient, mentee: Caller, listing_id: uuid.UUID, start: datetime,
                    **headers: str) -> tuple[int, dict]:
    """``POST /bookings`` as ``mentee``; the status and the body."""
    response = client.post("/api/v1/bookings", json={"listing_id": str(listing_id), "start_time": iso(start)},
                           headers={**mentee.headers, **headers})
    return response.status_code, response.get_json()


def feed_url(client: FlaskClient, caller: Caller) -> str:
    """A new calendar feed URL of ``caller``'s, as a path of the test client's."""
    response = client.post("/api/v1/me/calendar-token", headers=caller.headers)
    assert response.status_code == 201
    url: str = response.get_json()["url"]
    assert url.startswith("http://localhost/api/v1/calendar/") and url.endswith(".ics")
    return url.removeprefix("http://localhost")


def next_quarter_hour(after: timedelta = timedelta(minutes=1)) -> datetime:
    """The first quarter hour at least ``after`` from now: a slot of a listing stepping every 15 minutes."""
    soon = (datetime.now(UTC) + after).replace(second=0, microsecond=0)
    return soon + timedelta(minutes=-soon.minute % 15)
