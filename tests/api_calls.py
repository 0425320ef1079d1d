"""Requests the API tests make again and again: signing in, a booking request and its accept, a calendar feed's
URL."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.factories.accounts import PASSWORD, Caller


def future(days: int = 7, hour: int = 10) -> datetime:
    """``hour`` o'clock UTC, ``days`` days from today."""
    day = (datetime.now(UTC) + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def iso(moment: datetime) -> str:
    """As the API's clients write a UTC time: ``Z``, not ``+00:00``."""
    return moment.isoformat().replace("+00:00", "Z")


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD, *, address: str | None = None,
            agent: str | None = None, forwarded_for: str | None = None, cookie: bool = False) -> TestResponse:
    """``POST /auth/token``, from ``address`` with the ``agent`` given (the test client's own otherwise), through a
    proxy if ``forwarded_for`` is given; the refresh token in a cookie if ``cookie``, as the web app asks."""
    body: dict[str, object] = {"email": email, "password": password}
    if cookie:
        body["refresh_cookie"] = True
    environ = {key: value for key, value in (("REMOTE_ADDR", address), ("HTTP_USER_AGENT", agent)) if value}
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post("/api/v1/auth/token", json=body, environ_overrides=environ, headers=headers)


def signed_in(client: FlaskClient, email: str, password: str = PASSWORD, **how: str) -> dict:
    """The tokens of a sign-in that must succeed (``how`` as for :func:`sign_in`)."""
    response = sign_in(client, email, password, **how)
    assert response.status_code == 200, response.get_json()
    tokens: dict = response.get_json()
    return tokens


def bearer(tokens: dict) -> dict[str, str]:
    """The headers that authenticate with a sign-in's access token."""
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def post_booking(client: FlaskClient, mentee: Caller, listing_id: uuid.UUID, start: datetime, *,
                 headers: dict[str, str] | None = None, **fields: str) -> TestResponse:
    """``POST /bookings`` as ``mentee``, with the request's other ``fields`` (``mentor_profile_id``, ``note``)."""
    return client.post("/api/v1/bookings", json={"listing_id": str(listing_id), "start_time": iso(start), **fields},
                       headers={**mentee.headers, **(headers or {})})


def request_booking(client: FlaskClient, mentee: Caller, listing_id: uuid.UUID, start: datetime,
                    **headers: str) -> tuple[int, dict]:
    """:func:`post_booking` with extra ``headers``; the status and the body."""
    response = post_booking(client, mentee, listing_id, start, headers=headers)
    return response.status_code, response.get_json()


def post_accept(client: FlaskClient, mentor: Caller, booking_id: uuid.UUID | str) -> TestResponse:
    """``POST /bookings/{id}/accept`` as ``mentor``."""
    return client.post(f"/api/v1/bookings/{booking_id}/accept", headers=mentor.headers)


def requesting(app: Flask, mentee: Caller, listing_id: uuid.UUID, start: datetime) -> Callable[[], int]:
    """A booking request to make later, from a thread of its own (:func:`tests.concurrency.concurrently`): its
    status."""
    headers = mentee.headers  # made now, in the test's thread: the thread touches no row of the test's session
    body = {"listing_id": str(listing_id), "start_time": iso(start)}
    return lambda: app.test_client().post("/api/v1/bookings", headers=headers, json=body).status_code


def accepting(app: Flask, mentor: Caller, booking_id: uuid.UUID) -> Callable[[], int]:
    """An accept to make later, from a thread of its own: its status."""
    headers = mentor.headers
    return lambda: app.test_client().post(f"/api/v1/bookings/{booking_id}/accept", headers=headers).status_code


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
