"""An admin disables an account: its sign-ins end at once, a new sign-in or refresh is refused with 403, its future
sessions and requests end through their workflows, its listings stop; enabling lets it sign in again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    AdminAction,
    AuthEvent,
    AuthEventKind,
    Booking,
    BookingStatus,
    Listing,
    MentorshipSession,
    SessionStatus,
    User,
    WebhookEndpoint,
)
from tests.api_calls import bearer, sign_in, signed_in
from tests.database import events_of
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.bookings import BookingFactory
from tests.factories.sessions import make_session

ADMIN = "/api/v1/admin/users"


def audit_of(db: Session, target: object) -> list[tuple[str, str | None]]:
    """The audit of one target, by action (a test's requests share one transaction, so one time)."""
    return sorted((row.action, row.reason) for row in db.scalars(
        select(AdminAction).where(AdminAction.target_id == target)))


def test_disabling_a_mentee_ends_their_tokens_cancels_their_future_and_refuses_their_sign_in(
    client: FlaskClient, db: Session
) -> None:
    admin = as_caller(UserFactory(is_admin=True))
    mentor, mentee, future = make_session(db, datetime.now(UTC) + timedelta(days=3))
    draft = BookingFactory(mentee_user_id=mentee.user.id, start_time=datetime.now(UTC) + timedelta(days=5))
    tokens = signed_in(client, mentee.user.email)
    assert client.get("/api/v1/me", headers=bearer(tokens)).status_code == 200
    hook = WebhookEndpoint(id=uuid.uuid4(), owner_user_id=mentee.user.id, url="https://hooks.example.com/in",
                           secret="whsec_" + "a" * 32)
    db.add(hook)
    db.flush()

    done = client.post(f"{ADMIN}/{mentee.user.id}/disable", headers=admin.headers, json={"reason": "Abusive messages"})

    assert done.status_code == 200, done.get_json()
    assert done.get_json()["disabled_reason"] == "Abusive messages" and done.get_json()["disabled_at"]
    # Their token stops at once, and neither a new sign-in nor a refresh gets them back in.
    assert client.get("/api/v1/me", headers=bearer(tokens)).status_code == 401
    refused = sign_in(client, mentee.user.email)
    assert refused.status_code == 403 and "disabled" in refused.get_json()["message"]
    refresh = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 403
    kinds = db.scalars(select(AuthEvent.kind).where(AuthEvent.user_id == mentee.user.id)).all()
    assert AuthEventKind.SIGN_IN_FAILED in kinds
    # Their future ends as if they had cancelled it: events recorded, the mentor told the reason.
    db.expire_all()
    cancelled = db.get_one(MentorshipSession, future.id)
    assert cancelled.status == SessionStatus.CANCELLED and cancelled.cancelled_by == "mentee"
    assert cancelled.cancel_reason == "account disabled"
    assert ("session.cancelled", f"user:{mentee.user.id}") in events_of(db, future.id)
    assert db.get_one(Booking, draft.id).status == BookingStatus.CANCELLED
    assert audit_of(db, mentee.user.id) == [("user.disabled", "Abusive messages")]
    assert mentor.user.id != mentee.user.id
    # Their webhook endpoints stop too: nothing of what they could see goes out to them any more.
    db.refresh(hook)
    assert (hook.enabled, hook.disabled_reason) == (False, "account disabled")


def test_disabling_a_mentor_stops_their_listings_and_enabling_lets_them_back_in(
    client: FlaskClient, db: Session
) -> None:
    admin = as_caller(UserFactory(is_admin=True))
    mentor, _mentee, future = make_session(db, datetime.now(UTC) + timedelta(days=2))
    listing_id = future.listing_id
    headers = mentor.headers

    assert client.post(f"{ADMIN}/{mentor.user.id}/disable", headers=admin.headers,
                       json={"reason": "Fake profile"}).status_code == 200
    assert client.post(f"{ADMIN}/{mentor.user.id}/disable", headers=admin.headers,
                       json={"reason": "again"}).status_code == 200  # no change, nothing more recorded

    assert client.get("/api/v1/me", headers=headers).status_code == 401
    db.expire_all()
    assert db.get_one(Listing, listing_id).active is False
    assert db.get_one(MentorshipSession, future.id).cancelled_by == "mentor"
    listed = client.get(f"{ADMIN}?disabled=true&q={mentor.user.email}", headers=admin.headers).get_json()["items"]
    assert [item["id"] for item in listed] == [str(mentor.user.id)]

    enabled = client.post(f"{ADMIN}/{mentor.user.id}/enable", headers=admin.headers, json={"reason": "Verified"})

    assert enabled.status_code == 200 and enabled.get_json()["disabled_at"] is None
    assert signed_in(client, mentor.user.email)["access_token"]
    db.expire_all()
    assert db.get_one(Listing, listing_id).active is False  # the mentor turns them on again
    assert db.get_one(MentorshipSession, future.id).status == SessionStatus.CANCELLED
    assert audit_of(db, mentor.user.id) == [("user.disabled", "Fake profile"), ("user.enabled", "Verified")]


def test_an_admin_cannot_disable_themselves_or_the_last_admin_and_others_cannot_disable_anyone(
    client: FlaskClient, db: Session
) -> None:
    admin = as_caller(UserFactory(is_admin=True))
    other_admin = as_caller(UserFactory(is_admin=True))
    stranger = as_caller(UserFactory())
    reason = {"reason": "x"}

    assert client.post(f"{ADMIN}/{admin.user.id}/disable", headers=admin.headers, json=reason).status_code == 409
    assert client.post(f"{ADMIN}/{other_admin.user.id}/disable", headers=admin.headers,
                       json=reason).status_code == 200
    assert client.post(f"{ADMIN}/{stranger.user.id}/disable", headers=stranger.headers, json=reason).status_code == 403
    assert client.post(f"{ADMIN}/{stranger.user.id}/enable", headers=stranger.headers, json=reason).status_code == 403
    assert client.delete(f"{ADMIN}/{stranger.user.id}", headers=stranger.headers, json=reason).status_code == 403
    assert client.post(f"{ADMIN}/{stranger.user.id}/disable", headers=admin.headers, json={}).status_code == 422
    assert client.post(f"{ADMIN}/{stranger.user.id}/disable", headers=admin.headers,
                       json={"reason": "x" * 1001}).status_code == 422
    # Revoking the last admin who is not disabled is refused too.
    last = client.delete(f"{ADMIN}/{admin.user.id}/admin", json={"reason": "r"}, headers=admin.headers)
    assert last.status_code == 409


def test_an_admin_deletes_an_account_as_its_owner_would(client: FlaskClient, db: Session) -> None:
    admin = as_caller(UserFactory(is_admin=True))
    _mentor, mentee, future = make_session(db, datetime.now(UTC) + timedelta(days=3))
    email = mentee.user.email

    done = client.delete(f"{ADMIN}/{mentee.user.id}", headers=admin.headers, json={"reason": "Asked in writing"})

    assert done.status_code == 204
    db.expire_all()
    user = db.get_one(User, mentee.user.id)
    assert user.deleted_at is not None and user.email.endswith("@deleted.invalid")
    assert db.get_one(MentorshipSession, future.id).status == SessionStatus.CANCELLED
    assert sign_in(client, email).status_code == 401
    assert audit_of(db, mentee.user.id) == [("user.deleted", "Asked in writing")]
    assert client.delete(f"{ADMIN}/{mentee.user.id}", headers=admin.headers, json={"reason": "x"}).status_code == 404
    assert client.delete(f"{ADMIN}/{admin.user.id}", headers=admin.headers, json={"reason": "x"}).status_code == 409
