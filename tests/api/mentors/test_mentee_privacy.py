"""No id of one mentee reaches another: a group session's co-participant reads every response open to them
(each GET route of the OpenAPI document they can fill in, their webhook deliveries, their live frames) and
finds neither the other mentee's user id nor their booking's id (a review keeps its own id, which admins
act on, and shows its author by first name and initial)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Booking, ListingKind, OutboxEvent
from tests.factories.accounts import UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from workflows.actors import Actor
from workflows.events import from_outbox
from workflows.live import frames as live
from workflows.notifications import messages
from workflows.sessions import lifecycle as session_flow
from workflows.sessions import reviews
from workflows.webhooks import fanout


def test_a_group_co_participant_never_sees_another_mentees_ids(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=4)
    mentor = as_caller(listing.mentor_profile.user)
    watcher, other = as_caller(UserFactory()), as_caller(UserFactory())
    endpoint = client.post("/api/v1/webhook-endpoints", headers=watcher.headers,
                           json={"url": "https://hooks.example.com/in", "event_types": ["*"]}).get_json()
    start = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
    group = client.post(f"/api/v1/listings/{listing.id}/group-sessions", headers=mentor.headers,
                        json={"start_time": start.isoformat()}).get_json()
    for mentee in (watcher, other):
        assert client.post(f"/api/v1/sessions/{group['id']}/join", headers=mentee.headers).status_code == 201
    actor = Actor(user_id=mentor.user.id, mentor_profile_id=listing.mentor_profile_id)
    session_flow.start_session(db, actor, uuid.UUID(group["id"]))
    session_flow.complete_session(db, actor, uuid.UUID(group["id"]))
    events = list(db.scalars(select(OutboxEvent).order_by(OutboxEvent.created_at, OutboxEvent.id)))
    for handle in (reviews.handle_events, messages.handle_events, fanout.fan_out_events):
        handle(db, events)
    review = client.post(f"/api/v1/sessions/{group['id']}/review", headers=other.headers,
                         json={"rating": 5, "comment": "Lively group"}).get_json()
    late = list(db.scalars(select(OutboxEvent).where(OutboxEvent.type == "review.created")))
    messages.handle_events(db, late)
    fanout.fan_out_events(db, late)
    other_booking = db.scalars(select(Booking.id).where(Booking.mentee_user_id == other.user.id)).one()
    secrets = {str(other.user.id), str(other_booking)}
    assert review["id"]

    known = {"session_id": group["id"], "listing_id": str(listing.id), "profile_id": str(listing.mentor_profile_id),
             "endpoint_id": endpoint["id"], "mentor_profile_id": str(listing.mentor_profile_id),
             "booking_id": str(db.scalars(select(Booking.id).where(Booking.mentee_user_id == watcher.user.id)).one())}
    read: dict[str, Any] = {}
    for path, operations in client.get("/api/openapi.json").json["paths"].items():
        if "get" not in operations or not path.startswith("/api/v1/") or "{token}" in path:
            continue
        names = re.findall(r"{(\w+)}", path)
        if any(name not in known for name in names):
            continue
        url = re.sub(r"{(\w+)}", lambda m: known[m.group(1)], path)
        response = client.get(url, headers=watcher.headers)
        if response.status_code == 200 and response.is_json:
            read[url] = response.get_json()
    for event in [*events, *late]:
        for text in live.frames(from_outbox(event), watcher.user.id, None, {}):
            read[f"live {event.type}"] = text
    assert {f"/api/v1/sessions/{group['id']}", "/api/v1/notifications",
            f"/api/v1/mentor-profiles/{listing.mentor_profile_id}/reviews",
            f"/api/v1/webhook-endpoints/{endpoint['id']}/deliveries"} <= set(read)
    assert len(read) > 25
    assert any("Lively group" in json.dumps(body) for body in read.values())  # the review is there, unnamed
    assert any(body["items"] for url, body in read.items() if url.endswith("/deliveries"))
    for where, body in read.items():
        text = json.dumps(body)
        assert not [secret for secret in secrets if secret in text], (where, body)
