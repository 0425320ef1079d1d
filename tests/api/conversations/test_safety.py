"""Blocking and downloading through the API: a block stops new messages both ways and keeps the conversation
readable, is private (no event), tells a pair's programme coordinators, and is taken back; a desk is not blocked;
one's download holds one's conversations and their words, and nobody else's."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import OutboxEvent
from tests.api_calls import future, request_booking
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from tests.factories.programmes import BASE, joined, running_programme

URL = "/api/v1/conversations"


def _open(client: FlaskClient, caller: Caller, **body: Any) -> dict[str, Any]:
    opened = client.post(URL, headers=caller.headers, json=body)
    assert opened.status_code == 200, opened.get_json()
    return opened.get_json()


def _send(client: FlaskClient, caller: Caller, conversation: str, words: str) -> int:
    return client.post(f"{URL}/{conversation}/messages", headers=caller.headers, json={"body": words}).status_code


def test_a_block_stops_new_messages_both_ways_and_is_taken_back(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory()
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    assert request_booking(client, mentee, listing.id, future())[0] == 201
    one = _open(client, mentee, user_id=str(mentor.user.id))["id"]
    assert _send(client, mentee, one, "Hello") == 201
    events = db.scalar(select(func.count()).select_from(OutboxEvent))

    blocked = client.post(f"{URL}/{one}/block", headers=mentor.headers)
    assert blocked.status_code == 200 and blocked.get_json()["blocked"] == "by_you"
    assert client.get(f"{URL}/{one}", headers=mentee.headers).get_json()["blocked"] == "by_them"
    assert db.scalar(select(func.count()).select_from(OutboxEvent)) == events  # private: no event, no webhook
    for caller in (mentee, mentor):
        assert _send(client, caller, one, "Are you there?") == 403
    listed = client.get(f"{URL}/{one}/messages", headers=mentor.headers).get_json()["items"]
    assert [m["body"] for m in listed] == ["Hello"]  # still readable, nothing half-written
    assert client.post(f"{URL}/{one}/block", headers=mentor.headers).status_code == 200  # again: nothing more
    assert client.post(f"{URL}/{one}/block", headers=as_caller(UserFactory()).headers).status_code == 404

    unblocked = client.delete(f"{URL}/{one}/block", headers=mentor.headers)
    assert unblocked.status_code == 200 and unblocked.get_json()["blocked"] is None
    assert _send(client, mentee, one, "Thanks for coming back") == 201


def test_a_paired_block_tells_the_coordinators_and_a_desk_is_not_blocked(client: FlaskClient, db: Session) -> None:
    coordinator, programme = running_programme(client)
    mentor, mentor_id = joined(client, coordinator, programme, "mentor")
    mentee, mentee_id = joined(client, coordinator, programme, "mentee")
    paired = client.post(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers, json={
        "mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id})
    assert paired.status_code == 201, paired.get_json()
    one = _open(client, mentee, user_id=str(mentor.user.id))["id"]
    assert client.post(f"{URL}/{one}/block", headers=mentee.headers).status_code == 200
    told = client.get("/api/v1/notifications", headers=coordinator.headers).get_json()["items"]
    note = next(n for n in told if n["title"] == "A pair stopped messaging")
    assert note["body"] == (f"{mentee.user.display_name} blocked {mentor.user.display_name} in the service's "
                            "messages, in “Spring cohort”: no new message goes between them. Their pairing and its "
                            "sessions stand.")
    assert client.get(f"{BASE}/{programme['id']}/pairings", headers=mentee.headers
                      ).get_json()["items"][0]["status"] == "proposed"  # the pairing stands
    desk = _open(client, mentee, programme_id=programme["id"])["id"]
    assert client.post(f"{URL}/{desk}/block", headers=mentee.headers).status_code == 400


def test_ones_download_holds_ones_conversations_and_no_one_elses(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory()
    mentor, mentee, stranger = as_caller(listing.mentor_profile.user), as_caller(UserFactory()), \
        as_caller(UserFactory())
    assert request_booking(client, mentee, listing.id, future())[0] == 201
    one = _open(client, mentee, user_id=str(mentor.user.id))["id"]
    for caller, words in ((mentee, "Could we look at *my outline*?"), (mentor, "Yes.\nBring it."),
                          (mentee, "مرحبا")):
        assert _send(client, caller, one, words) == 201
    first = client.get(f"{URL}/{one}/messages", headers=mentee.headers).get_json()["items"][0]
    assert client.delete(f"{URL}/{one}/messages/{first['id']}", headers=mentee.headers).status_code == 204

    exported = client.get(f"{URL}/export", headers=mentee.headers)
    assert exported.status_code == 200
    body = exported.get_json()
    assert body["complete"] is True
    (conversation,) = body["conversations"]
    assert (conversation["id"], conversation["with"]) == (one, mentor.user.display_name)
    assert [(m["seq"], m["from"], m["mine"], m["deleted"], m["text"]) for m in conversation["messages"]] == [
        (1, mentee.user.display_name, True, True, None), (2, mentor.user.display_name, False, False, "Yes.\nBring it."),
        (3, mentee.user.display_name, True, False, "مرحبا")]
    assert client.get(f"{URL}/export", headers=stranger.headers).get_json()["conversations"] == []
    assert client.get(f"{URL}/export").status_code == 401
