"""A programme's edges through the API: an address no mail header can carry, a registering name longer than an
account keeps, a programme listing's terms kept from its mentor and its bundles from outsiders, a mentor who leaves
or a programme that closes putting its listings away, a series cancelled from its own page ending its pairing, a
deleted account ending its pairings and leaving no address behind, and inputs that say what is wrong."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Listing, OutboxEvent, Pairing, ProgrammeInvitation
from tests.factories.accounts import PASSWORD, Caller, UserFactory, actor_of, as_caller
from tests.factories.programmes import BASE, joined, running_programme
from workflows.accounts import deletion
from workflows.programmes import following
from workflows.programmes.enrolment import token_of

SERIES = "/api/v1/booking-series"


def _pair(client: FlaskClient, **settings: Any) -> tuple[Caller, Caller, Caller, dict[str, Any]]:
    coordinator, programme = running_programme(client, **settings)
    mentor, mentor_id = joined(client, coordinator, programme, "mentor")
    mentee, mentee_id = joined(client, coordinator, programme, "mentee")
    pairing = client.post(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers, json={
        "mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id})
    assert pairing.status_code == 201, pairing.get_json()
    return coordinator, mentor, mentee, pairing.get_json()


def _follow(db: Session, event_type: str, series_id: str) -> None:
    following.follow_series(db, list(db.scalars(select(OutboxEvent).where(
        OutboxEvent.type == event_type, OutboxEvent.aggregate_id == uuid.UUID(series_id)))))


def test_an_address_with_a_control_character_is_refused_and_a_long_name_is_cut_to_fit(client: FlaskClient,
                                                                                      db: Session) -> None:
    coordinator, programme = running_programme(client)
    url = f"{BASE}/{programme['id']}/invitations"
    answer = client.post(url, headers=coordinator.headers, json={"invitees": [
        {"email": '"a\x0bb"@example.com', "role": "mentee"}, {"email": "long@example.com", "role": "mentee",
                                                             "name": "N" * 120}]}).get_json()
    assert [(e["line"], e["message"]) for e in answer["errors"]] == [(1, "the email holds a control character")]
    invitation = db.scalar(select(ProgrammeInvitation).where(ProgrammeInvitation.email == "long@example.com"))
    assert invitation is not None
    registered = client.post("/api/v1/programme-invitations/register", json={
        "token": token_of("invitation", invitation.id), "password": "a longer passphrase nobody has seen"})
    assert registered.status_code == 201, registered.get_json()
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {registered.get_json()['access_token']}"})
    assert me.get_json()["display_name"] == "N" * 100


def test_a_programme_listing_keeps_its_terms_and_is_put_away_when_its_mentor_leaves_or_it_closes(
        client: FlaskClient, db: Session) -> None:
    coordinator, mentor, _, pairing = _pair(client)
    listing = f"/api/v1/listings/{pairing['listing_id']}"
    for change in ({"price_cents": 5000}, {"instant_booking": True}):
        assert client.patch(listing, headers=mentor.headers, json=change).status_code == 400
    assert client.put(f"{listing}/questions", headers=mentor.headers, json={"items": []}).status_code == 400
    assert client.get(f"{listing}/bundles", headers=as_caller(UserFactory()).headers).status_code == 404
    programme_id = pairing["programme_id"]
    assert client.post(f"{BASE}/{programme_id}/leave", headers=mentor.headers).status_code == 200
    assert db.get_one(Listing, uuid.UUID(pairing["listing_id"])).active is False
    ended = client.get(f"{BASE}/{programme_id}/pairings/{pairing['id']}", headers=coordinator.headers).get_json()
    assert ended["status"] == "ended"
    # Closing puts away every programme listing.
    other_coordinator, _, _, other = _pair(client)
    assert client.post(f"{BASE}/{other['programme_id']}/close", headers=other_coordinator.headers).status_code == 200
    assert db.get_one(Listing, uuid.UUID(other["listing_id"])).active is False


def test_a_series_cancelled_to_its_end_from_its_own_page_ends_the_pairing(client: FlaskClient, db: Session) -> None:
    _, mentor, _, pairing = _pair(client, session_count=2)
    client.post(f"{SERIES}/{pairing['series_id']}/accept", headers=mentor.headers)
    _follow(db, "booking_series.accepted", pairing["series_id"])
    assert db.get_one(Pairing, uuid.UUID(pairing["id"])).status == "active"
    cancelled = client.post(f"{SERIES}/{pairing['series_id']}/cancel", headers=mentor.headers,
                            json={"reason": "I am moving abroad"})
    assert cancelled.status_code == 200, cancelled.get_json()
    # Ended at once by its mentor, for their reason (the follower, hearing of the series after, changes nothing).
    row = db.get_one(Pairing, uuid.UUID(pairing["id"]))
    assert (row.status, row.ended_by, row.end_reason) == ("ended", "mentor", "I am moving abroad")
    _follow(db, "booking_series.cancelled", pairing["series_id"])
    db.refresh(row)
    assert (row.status, row.ended_by, row.end_reason) == ("ended", "mentor", "I am moving abroad")


def test_a_deleted_account_ends_its_pairings_and_leaves_no_address_in_invitations(client: FlaskClient,
                                                                                 db: Session) -> None:
    coordinator, _, mentee, pairing = _pair(client)
    other_coordinator, other = running_programme(client)
    client.post(f"{BASE}/{other['id']}/invitations", headers=other_coordinator.headers, json={"invitees": [
        {"email": mentee.user.email, "name": "Lin", "role": "mentee"}]})
    address = mentee.user.email
    deletion.delete_account(db, actor_of(mentee.user), current_password=PASSWORD)
    row = db.get_one(Pairing, uuid.UUID(pairing["id"]))
    assert (row.status, row.ended_by) == ("ended", "system")
    assert db.scalars(select(ProgrammeInvitation).where(ProgrammeInvitation.email == address)).all() == []
    left = db.scalars(select(ProgrammeInvitation).where(ProgrammeInvitation.programme_id == uuid.UUID(other["id"])))
    assert [(i.status, i.name) for i in left] == [("withdrawn", "")]
    assert client.get(f"{BASE}/{pairing['programme_id']}/pairings/{pairing['id']}",
                      headers=coordinator.headers).get_json()["end_reason"] == "one of the pair deleted their account"


def test_inputs_that_cannot_be_are_refused_with_a_reason(client: FlaskClient, db: Session) -> None:
    coordinator, _, mentee, pairing = _pair(client)
    programme_id = pairing["programme_id"]
    backwards = client.put(f"{BASE}/{programme_id}/intake", headers=mentee.headers, json={
        "answers": [], "windows": [{"weekday": 1, "start_minute": 600, "end_minute": 600}]})
    assert backwards.status_code == 400 and backwards.get_json()["message"] == "a window ends after it starts"
    url = f"{BASE}/{programme_id}/pairings/{pairing['id']}"
    for path, body in ((f"{url}/goals", {"title": "   "}), (f"{url}/action-items", {"title": "  "})):
        refused = client.post(path, headers=coordinator.headers, json=body)
        assert refused.status_code == 400 and refused.get_json()["message"] == "give it a few words", path
