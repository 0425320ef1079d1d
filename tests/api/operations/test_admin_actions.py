"""What administrators do to people, sessions and reviews: found, acted on, and recorded."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AdminAction, BookingStatus, MentorProfile, OutboxEvent, Review, SessionStatus, User
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import MentorProfileFactory
from tests.factories.sessions import make_session
from workflows.sessions import reviews


def actions(db: Session) -> list[AdminAction]:
    return list(db.scalars(select(AdminAction)))


def test_admin_routes_are_for_admins_only(client: FlaskClient, db: Session) -> None:
    someone = as_caller(UserFactory())
    _mentor, _mentee, session = make_session(db, datetime.now(UTC) + timedelta(days=2))
    for method, url, body in (
        ("get", "/api/v1/admin/users", None), ("get", "/api/v1/admin/bookings", None),
        ("get", "/api/v1/admin/sessions", None), ("get", "/api/v1/admin/audit", None),
        ("put", f"/api/v1/admin/users/{someone.user.id}/admin", {"reason": "x"}),
        ("delete", f"/api/v1/admin/users/{someone.user.id}/admin", {"reason": "x"}),
        ("post", f"/api/v1/admin/sessions/{session.id}/cancel", {"reason": "x"}),
        ("post", f"/api/v1/admin/reviews/{uuid.uuid4()}/hide", {"reason": "x"}),
    ):
        refused = getattr(client, method)(url, json=body, headers=someone.headers)
        assert refused.status_code == 403 and refused.get_json()["message"] == "administrators only", url
    db.refresh(someone.user)
    db.refresh(session)
    assert not someone.user.is_admin and session.status == SessionStatus.SCHEDULED and actions(db) == []


def test_admins_find_users_bookings_and_sessions(client: FlaskClient, db: Session) -> None:
    admin = as_caller(UserFactory(is_admin=True))
    tag = uuid.uuid4().hex[:8]
    ada = UserFactory(display_name=f"Ada {tag}", email=f"ada-{tag}@example.com")
    UserFactory(display_name=f"Bob {tag}")
    found = client.get(f"/api/v1/admin/users?q=ADA {tag}", headers=admin.headers).get_json()["items"]
    assert [(u["id"], u["email"]) for u in found] == [(str(ada.id), ada.email)]
    assert len(client.get(f"/api/v1/admin/users?q={tag}", headers=admin.headers).get_json()["items"]) == 2
    assert client.get("/api/v1/admin/users?q=%25", headers=admin.headers).status_code == 200  # a literal %

    _mentor, mentee, session = make_session(db, datetime.now(UTC) + timedelta(days=3))
    by_mentor = f"mentor_profile_id={session.mentor_profile_id}"
    listed = client.get(f"/api/v1/admin/sessions?{by_mentor}&status=scheduled", headers=admin.headers).get_json()
    assert [s["id"] for s in listed["items"]] == [str(session.id)]
    assert listed["items"][0]["mentee"]["display_name"] == mentee.user.display_name
    later = (datetime.now(UTC) + timedelta(days=4)).isoformat().replace("+00:00", "Z")
    assert client.get(f"/api/v1/admin/sessions?{by_mentor}&from={later}", headers=admin.headers
                      ).get_json()["items"] == []
    booked = client.get(f"/api/v1/admin/bookings?{by_mentor}&status=accepted", headers=admin.headers).get_json()
    assert [(b["id"], b["session_id"]) for b in booked["items"]] == [(str(session.booking_id), str(session.id))]
    for bad in ("sessions?status=nope", "bookings?to=yesterday", f"sessions?from={later}&to={later}"):
        refused = client.get(f"/api/v1/admin/{bad}", headers=admin.headers)
        assert refused.status_code == 422 and refused.get_json()["message"], bad


def test_an_admin_cancels_a_session_through_the_workflow_and_it_is_recorded(client: FlaskClient, db: Session) -> None:
    admin = as_caller(UserFactory(is_admin=True))
    mentor, mentee, session = make_session(db, datetime.now(UTC) + timedelta(hours=2))
    missing = client.post("/api/v1/admin/sessions/" + str(uuid.uuid4()) + "/cancel", json={"reason": "x"},
                          headers=admin.headers)
    assert missing.status_code == 404
    assert client.post(f"/api/v1/admin/sessions/{session.id}/cancel", json={}, headers=admin.headers
                       ).status_code == 422
    cancelled = client.post(f"/api/v1/admin/sessions/{session.id}/cancel", json={"reason": "Mentor suspended"},
                            headers=admin.headers)
    assert cancelled.status_code == 200, cancelled.get_json()
    body = cancelled.get_json()
    assert body["status"] == "cancelled"
    assert (body["cancellation"]["cancelled_by"], body["cancellation"]["late"]) == ("admin", False)
    event = db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == session.id,
                                                 OutboxEvent.type == "session.cancelled")).one()
    assert event.actor == f"admin:{admin.user.id}"
    timeline = client.get(f"/api/v1/sessions/{session.id}/events", headers=mentee.headers).get_json()["items"]
    assert ("session.cancelled", "admin") in {(e["type"], e["actor"]) for e in timeline}
    booking = client.get(f"/api/v1/bookings/{session.booking_id}", headers=mentee.headers).get_json()
    assert booking["status"] == BookingStatus.CANCELLED.value
    audit = client.get(f"/api/v1/admin/audit?target_id={session.id}", headers=admin.headers).get_json()["items"]
    assert [(a["action"], a["reason"], a["admin_user_id"]) for a in audit] == [
        ("session.cancelled", "Mentor suspended", str(admin.user.id))]
    again = client.post(f"/api/v1/admin/sessions/{session.id}/cancel", json={"reason": "x"}, headers=admin.headers)
    assert again.status_code == 400 and "cancelled" in again.get_json()["message"]
    assert len(actions(db)) == 1
    assert mentor is not None


def test_granting_and_revoking_admin_never_leaves_no_admin(client: FlaskClient, db: Session) -> None:
    db.execute(User.__table__.update().values(is_admin=False))  # type: ignore[attr-defined]
    first = UserFactory(is_admin=True)
    admin, other = as_caller(first), UserFactory()
    last = client.delete(f"/api/v1/admin/users/{first.id}/admin", json={"reason": "leaving"}, headers=admin.headers)
    assert last.status_code == 409 and "last admin" in last.get_json()["message"]
    db.refresh(first)
    assert first.is_admin and actions(db) == []
    for no_reason in (None, {}, {"reason": "  "}):  # a grant or a revocation says why, for the audit trail
        for method in (client.put, client.delete):
            refused = method(f"/api/v1/admin/users/{other.id}/admin", json=no_reason, headers=admin.headers)
            assert refused.status_code == 422, (no_reason, refused.get_json())
    db.refresh(other)
    assert not other.is_admin and actions(db) == []
    granted = client.put(f"/api/v1/admin/users/{other.id}/admin", json={"reason": "Runs the spring cohort."},
                         headers=admin.headers)
    assert granted.status_code == 200 and granted.get_json()["is_admin"] is True
    assert client.put(f"/api/v1/admin/users/{other.id}/admin", json={"reason": "again"},
                      headers=admin.headers).status_code == 200
    assert client.get("/api/v1/admin/outbox", headers=as_caller(other).headers).status_code == 200
    revoked = client.delete(f"/api/v1/admin/users/{first.id}/admin", json={"reason": "Left the organisation."},
                            headers=admin.headers)
    assert revoked.status_code == 200 and revoked.get_json()["is_admin"] is False
    assert client.get("/api/v1/admin/outbox", headers=admin.headers).status_code == 403
    assert client.put(f"/api/v1/admin/users/{uuid.uuid4()}/admin", json={"reason": "x"},
                      headers=as_caller(other).headers).status_code == 404
    audit = client.get("/api/v1/admin/audit", headers=as_caller(other).headers).get_json()["items"]
    assert sorted((a["action"], a["target_id"], a["reason"]) for a in audit) == sorted([
        ("user.granted_admin", str(other.id), "Runs the spring cohort."),
        ("user.revoked_admin", str(first.id), "Left the organisation.")])


def test_a_hidden_review_leaves_public_lists_and_the_rating(client: FlaskClient, db: Session) -> None:
    admin = as_caller(UserFactory(is_admin=True))
    profile = MentorProfileFactory()
    _m, _mentee, one = make_session(db, datetime.now(UTC) + timedelta(days=2))
    _m2, _mentee2, two = make_session(db, datetime.now(UTC) + timedelta(days=3))
    kept = Review(id=uuid.uuid4(), session_id=one.id, mentor_profile_id=profile.id, mentee_user_id=one.mentee_user_id,
                  rating=5, comment="Great")
    rude = Review(id=uuid.uuid4(), session_id=two.id, mentor_profile_id=profile.id, mentee_user_id=two.mentee_user_id,
                  rating=1, comment="Rude words")
    db.add_all([kept, rude])
    db.flush()
    reviews.refresh_rating(db, profile)
    assert (profile.rating_average, profile.rating_count) == (Decimal("3.00"), 2)
    url = f"/api/v1/mentor-profiles/{profile.id}/reviews"
    assert client.post(f"/api/v1/admin/reviews/{rude.id}/hide", json={"reason": ""}, headers=admin.headers
                       ).status_code == 422
    hidden = client.post(f"/api/v1/admin/reviews/{rude.id}/hide", json={"reason": "Abuse"}, headers=admin.headers)
    assert hidden.status_code == 200 and hidden.get_json()["hidden_reason"] == "Abuse"
    assert [r["id"] for r in client.get(url, headers=admin.headers).get_json()["items"]] == [str(kept.id)]
    db.refresh(profile)
    assert (profile.rating_average, profile.rating_count) == (Decimal("5.00"), 1)
    assert client.post(f"/api/v1/admin/reviews/{uuid.uuid4()}/hide", json={"reason": "x"},
                       headers=admin.headers).status_code == 404
    (entry,) = actions(db)
    assert (entry.action, entry.target_id, entry.reason) == ("review.hidden", rude.id, "Abuse")
    assert db.get(MentorProfile, profile.id) is not None
