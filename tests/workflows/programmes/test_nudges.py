"""A programme's reminders (``workflows/programmes/nudges.py``), set through the API and sent as the beat sends them,
days later: an invitation not answered is mailed again with its link, a mentor who gave no hours and a mentor who
has not accepted a pairing are reminded, and so is a pair with no first session booked; each round once, at most as
often as set, none once the person acts, and the coordinators see who was reminded and when."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Booking, BookingStatus, NudgeStep, OutboxEvent
from tests.api_calls import future, request_booking
from tests.factories.accounts import actor_of
from tests.factories.programmes import ALL_WEEK, BASE, joined, running_programme
from tests.mail import Mailbox
from workflows.clock import utcnow
from workflows.events import EventType
from workflows.programmes import following, invitation_mail, nudges


def _titles(client: FlaskClient, caller: Any) -> list[str]:
    listed = client.get("/api/v1/notifications?limit=100", headers=caller.headers).get_json()["items"]
    return [n["title"] for n in listed if n["title"].startswith("Reminder:")]


def test_reminders_go_once_a_round_as_set_and_stop_when_the_person_acts(
        client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    coordinator, programme = running_programme(client)
    url = f"{BASE}/{programme['id']}"
    assert [one["enabled"] for one in client.get(f"{url}/nudges", headers=coordinator.headers).get_json()["items"]
            ] == [False] * len(NudgeStep)  # off until its coordinators turn them on
    settings = [{"step": step, "enabled": True, "after_days": 3, "every_days": 4, "at_most": 2}
                for step in ("invitation", "intake", "pairing")]
    turned = client.put(f"{url}/nudges", headers=coordinator.headers, json={"items": settings})
    assert turned.status_code == 200, turned.get_json()
    for bad in ({**settings[0], "at_most": 11}, {**settings[0], "after_days": 0}, {**settings[0], "step": "x"}):
        assert client.put(f"{url}/nudges", headers=coordinator.headers, json={"items": [bad]}).status_code == 422
    quiet, _ = joined(client, coordinator, programme, "mentor", hours=None)  # gave no hours
    mentor, mentor_id = joined(client, coordinator, programme, "mentor")
    mentee, mentee_id = joined(client, coordinator, programme, "mentee")
    assert client.get(f"{url}/nudges", headers=mentor.headers).status_code == 403  # a participant does not set them
    assert client.post(f"{url}/pairings", headers=coordinator.headers, json={
        "mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id}).status_code == 201
    assert client.post(f"{url}/invitations", headers=coordinator.headers, json={"invitees": [
        {"email": "sam@example.com", "role": "mentee"}]}).status_code == 200
    programme_id = uuid.UUID(programme["id"])
    assert invitation_mail.deliver_invitations(db, programme_id) == (1, 0)
    now = utcnow()

    assert nudges.send_due(db, now=now + timedelta(days=1)) == 0  # nothing is due yet
    assert nudges.send_due(db, now=now + timedelta(days=3, minutes=1)) == 3  # a round of each
    assert nudges.send_due(db, now=now + timedelta(days=3, minutes=2)) == 0  # once
    assert invitation_mail.deliver_invitations(db, programme_id) == (1, 0)
    mailed = mailbox.inbox.to("sam@example.com")
    assert len(mailed) == 2 and mailbox.inbox.link("sam@example.com", "programme-invitation")
    assert _titles(client, quiet) == ["Reminder: finish your intake for \u201cSpring cohort\u201d"]
    assert _titles(client, mentor) == ["Reminder: a pairing waits for your answer"]
    told = client.get("/api/v1/notifications", headers=mentor.headers).get_json()["items"][0]
    assert told["body"] == (f"{mentee.user.display_name} was paired with you in “Spring cohort”: accept or decline "
                            "the pairing on the programme's page.")
    assert _titles(client, mentee) == []  # she has nothing left undone

    # The mentor gives his hours and accepts: nothing more for him; the others get their second and last round.
    assert client.put(f"{url}/intake", headers=quiet.headers, json={"answers": [], "windows": ALL_WEEK}
                      ).status_code == 200
    pairing = client.get(f"{url}/pairings", headers=mentor.headers).get_json()["items"][0]
    assert client.post(f"/api/v1/booking-series/{pairing['series_id']}/accept", headers=mentor.headers
                       ).status_code == 200
    following.follow_series(db, list(db.scalars(select(OutboxEvent).where(  # the worker's handler of the answer
        OutboxEvent.type == EventType.BOOKING_SERIES_ACCEPTED))))
    assert client.get(f"{url}/pairings", headers=mentor.headers).get_json()["items"][0]["status"] == "active"
    assert nudges.send_due(db, now=now + timedelta(days=7, minutes=1)) == 1  # the invitation only
    assert nudges.send_due(db, now=now + timedelta(days=30)) == 0  # at most two
    assert len(_titles(client, quiet)) == 1 and len(_titles(client, mentor)) == 1

    sent = client.get(f"{url}/nudges/sent", headers=coordinator.headers).get_json()["items"]
    assert sorted((one["step"], one["round"], one["to"]) for one in sent) == [
        ("intake", 1, quiet.user.display_name), ("invitation", 1, "sam@example.com"),
        ("invitation", 2, "sam@example.com"), ("pairing", 1, mentor.user.display_name)]
    assert {one.step for one in nudges.settings(db, actor_of(coordinator.user), programme_id)} == set(NudgeStep)


def test_a_pair_with_no_first_session_booked_is_reminded_until_the_mentee_books(client: FlaskClient, db: Session
                                                                                  ) -> None:
    coordinator, programme = running_programme(client)
    url = f"{BASE}/{programme['id']}"
    assert client.put(f"{url}/nudges", headers=coordinator.headers, json={"items": [
        {"step": "first_session", "enabled": True, "after_days": 5, "every_days": 5, "at_most": 2}]}).status_code == 200
    mentor, mentor_id = joined(client, coordinator, programme, "mentor")
    mentee, mentee_id = joined(client, coordinator, programme, "mentee")
    assert client.post(f"{url}/pairings", headers=coordinator.headers, json={
        "mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id}).status_code == 201
    pairing = client.get(f"{url}/pairings", headers=mentor.headers).get_json()["items"][0]
    assert client.post(f"/api/v1/booking-series/{pairing['series_id']}/accept", headers=mentor.headers
                       ).status_code == 200
    following.follow_series(db, list(db.scalars(select(OutboxEvent).where(
        OutboxEvent.type == EventType.BOOKING_SERIES_ACCEPTED))))
    now = utcnow()
    assert nudges.send_due(db, now=now + timedelta(days=6)) == 0  # its sessions are booked: nothing to remind

    # Its sessions were each cancelled (a clash, then another): the pair has none booked.
    db.execute(update(Booking).where(Booking.series_id == uuid.UUID(pairing["series_id"])).values(
        status=BookingStatus.CANCELLED))
    assert nudges.send_due(db, now=now + timedelta(days=4)) == 0  # not yet five days
    assert nudges.send_due(db, now=now + timedelta(days=5, minutes=1)) == 1
    assert nudges.send_due(db, now=now + timedelta(days=5, minutes=2)) == 0  # once a round
    assert _titles(client, mentee) == [f"Reminder: book your first session with {mentor.user.display_name}"]
    assert _titles(client, mentor) == [f"Reminder: no first session yet with {mentee.user.display_name}"]
    sent = client.get(f"{url}/nudges/sent", headers=coordinator.headers).get_json()["items"]
    assert [(one["step"], one["to"]) for one in sent] == [
        ("first_session", f"{mentee.user.display_name} and {mentor.user.display_name}")]

    # She asks for a time: the next round finds nothing undone.
    status, _ = request_booking(client, mentee, uuid.UUID(pairing["listing_id"]), future(days=20))
    assert status == 201
    assert nudges.send_due(db, now=now + timedelta(days=10, minutes=2)) == 0
    assert len(_titles(client, mentee)) == 1
