"""DELETE /me: future commitments cancelled through their workflows, the person anonymised, history kept."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Booking,
    BookingStatus,
    Listing,
    ListingKind,
    MentorProfile,
    MentorshipSession,
    RefreshToken,
    SessionStatus,
    User,
    WebhookEndpoint,
)
from tests.database import event_types_of, fingerprint
from tests.factories.accounts import PASSWORD, UserFactory, as_caller
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory
from tests.factories.sessions import make_session
from workflows.actors import Actor
from workflows.sessions import lifecycle as session_flow
from workflows.webhooks import endpoints


def delete_me(client: FlaskClient, headers: dict[str, str], password: str = PASSWORD) -> tuple[int, dict | None]:
    response = client.delete("/api/v1/me", headers=headers, json={"current_password": password})
    return response.status_code, response.get_json(silent=True)


def test_deleting_a_mentee_cancels_the_future_keeps_the_past_and_erases_the_email(
    client: FlaskClient, db: Session
) -> None:
    mentor, mentee, future = make_session(db, datetime.now(UTC) + timedelta(days=3))
    email = mentee.user.email
    past = session_flow.create_session_from_booking(db, BookingFactory(
        mentee_user_id=mentee.user.id, status=BookingStatus.ACCEPTED,
        start_time=datetime.now(UTC) - timedelta(days=3)).id)
    assert past is not None
    past.status, past.started_at, past.completed_at = SessionStatus.COMPLETED, past.start_time, past.end_time
    draft = BookingFactory(mentee_user_id=mentee.user.id)
    tokens = client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD}).get_json()
    db.flush()
    old_token = mentee.headers  # signed now, at the token version the deletion ends

    assert delete_me(client, old_token) == (204, None)

    db.expire_all()
    assert db.get(MentorshipSession, future.id).status == SessionStatus.CANCELLED
    assert event_types_of(db, future.id) == ["session.cancelled", "session.scheduled"]
    assert db.get(MentorshipSession, future.id).cancelled_by == "mentee"
    assert db.get(Booking, draft.id).status == BookingStatus.CANCELLED
    assert event_types_of(db, draft.id) == ["booking.cancelled"]
    assert db.get(MentorshipSession, past.id).status == SessionStatus.COMPLETED  # history stays
    user = db.get(User, mentee.user.id)
    assert user.email.endswith("@deleted.invalid") and user.display_name == "Deleted user"
    assert user.deleted_at is not None
    # The email is gone from every table, and nobody gets in with the old credentials.
    assert email not in json.dumps(fingerprint(db))
    assert client.get("/api/v1/me", headers=old_token).status_code == 401
    assert client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD}).status_code == 401
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert db.scalars(select(RefreshToken).where(RefreshToken.user_id == user.id,
                                                 RefreshToken.revoked_at.is_(None))).all() == []
    # The mentor still reads the session, with its mentee shown as deleted.
    shown = client.get(f"/api/v1/sessions/{future.id}", headers=mentor.headers).get_json()
    assert shown["mentee"] == {"id": str(user.id), "display_name": "Deleted user"}


def test_an_accepted_booking_whose_session_is_not_created_yet_is_cancelled_too(
    client: FlaskClient, db: Session
) -> None:
    booking = BookingFactory(status=BookingStatus.ACCEPTED)
    mentee = as_caller(db.get(User, booking.mentee_user_id))
    assert delete_me(client, mentee.headers)[0] == 204
    db.expire_all()
    assert db.get(Booking, booking.id).status == BookingStatus.CANCELLED
    (session,) = db.scalars(select(MentorshipSession).where(MentorshipSession.booking_id == booking.id))
    assert session.status == SessionStatus.CANCELLED
    assert event_types_of(db, session.id) == ["session.cancelled", "session.scheduled"]


def test_deleting_a_mentor_cancels_their_group_sessions_and_withdraws_the_profile(
    client: FlaskClient, db: Session
) -> None:
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=3)
    mentor = as_caller(listing.mentor_profile.user)
    start = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0).isoformat()
    group = client.post(f"/api/v1/listings/{listing.id}/group-sessions", json={"start_time": start},
                        headers=mentor.headers).get_json()
    seat_holder = as_caller(UserFactory())
    seat = client.post(f"/api/v1/sessions/{group['id']}/join", headers=seat_holder.headers).get_json()
    draft = BookingFactory(listing=ListingFactory(mentor_profile=listing.mentor_profile))
    actor = Actor(user_id=mentor.user.id, mentor_profile_id=listing.mentor_profile_id)
    endpoint = endpoints.create_endpoint(db, actor, url="https://hooks.example.com/mentor")
    db.flush()

    assert delete_me(client, mentor.headers)[0] == 204

    db.expire_all()
    cancelled = db.get(MentorshipSession, uuid.UUID(group["id"]))
    assert (cancelled.status, cancelled.cancelled_by) == (SessionStatus.CANCELLED, "mentor")
    assert db.get(Booking, uuid.UUID(seat["id"])).status == BookingStatus.CANCELLED
    assert db.get(Booking, draft.id).status == BookingStatus.DECLINED
    assert event_types_of(db, draft.id) == ["booking.declined"]
    assert not db.get(MentorProfile, listing.mentor_profile_id).listed
    assert not any(db.scalars(select(Listing.active).where(Listing.mentor_profile_id == listing.mentor_profile_id)))
    assert (db.get(WebhookEndpoint, endpoint.id).enabled, db.get(WebhookEndpoint, endpoint.id).disabled_reason) == (
        False, "account deleted")
    viewer = as_caller(UserFactory())
    assert client.get(f"/api/v1/mentor-profiles/{listing.mentor_profile_id}", headers=viewer.headers).status_code == 404
    # The participant still reads what happened, with the mentor shown as deleted.
    shown = client.get(f"/api/v1/sessions/{group['id']}", headers=seat_holder.headers).get_json()
    assert shown["status"] == "cancelled" and shown["mentor"]["display_name"] == "Deleted user"


def test_a_wrong_or_missing_password_deletes_nothing(client: FlaskClient, db: Session) -> None:
    booking = BookingFactory()
    user = db.get(User, booking.mentee_user_id)
    mentee = as_caller(user)
    email, name = user.email, user.display_name
    status, body = delete_me(client, mentee.headers, password="not my password")
    assert status == 403 and body["message"] == "the current password is wrong"
    for bad in ({}, {"current_password": ""}, {"current_password": 1}):
        response = client.delete("/api/v1/me", headers=mentee.headers, json=bad)
        assert response.status_code == 422 and response.get_json()["message"], bad
    assert client.delete("/api/v1/me", json={"current_password": PASSWORD}).status_code == 401
    db.expire_all()
    assert (user.email, user.display_name, user.deleted_at) == (email, name, None)
    assert db.get(Booking, booking.id).status == BookingStatus.DRAFT
    assert client.get("/api/v1/me", headers=mentee.headers).status_code == 200
