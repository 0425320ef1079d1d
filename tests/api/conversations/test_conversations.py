"""Conversations through the API: a mentor and a mentee who share a booking have one conversation (a stranger none),
a programme's participant one with its coordinators; messages in order, read state and unread counts, edits within
15 minutes, deletion's tombstone, safe Markdown, hostile text refused or made harmless, search in three scripts,
idempotent sending, two writers at once, the rate limit, and words kept nowhere but the message; a group session's
people share one conversation (one who gives up their seat leaves it); a muted conversation is neither counted nor
emailed."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from infra.channels import user_channel
from models import ConversationRead, ListingKind, Message, OutboxEvent
from tests.api_calls import future, request_booking
from tests.concurrency import concurrently
from tests.factories.accounts import PASSWORD, Caller, UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from tests.factories.programmes import BASE, joined, running_programme
from tests.servers import live_app
from workflows.events import from_outbox
from workflows.live import frames as live
from workflows.notifications import message_mail
from workflows.webhooks import fanout

URL = "/api/v1/conversations"


def _pair(client: FlaskClient) -> tuple[Caller, Caller]:
    """A mentor and a mentee who share a booking request."""
    listing = ListingFactory()
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    status, _ = request_booking(client, mentee, listing.id, future())
    assert status == 201
    return mentor, mentee


def _open(client: FlaskClient, caller: Caller, **body: Any) -> dict[str, Any]:
    opened = client.post(URL, headers=caller.headers, json=body)
    assert opened.status_code == 200, opened.get_json()
    return opened.get_json()


def _send(client: FlaskClient, caller: Caller, conversation: str, words: str, **more: Any) -> dict[str, Any]:
    sent = client.post(f"{URL}/{conversation}/messages", headers=caller.headers, json={"body": words, **more})
    assert sent.status_code == 201, sent.get_json()
    return sent.get_json()


def _messages(client: FlaskClient, caller: Caller, conversation: str, **query: Any) -> list[dict[str, Any]]:
    listed = client.get(f"{URL}/{conversation}/messages", headers=caller.headers, query_string=query)
    assert listed.status_code == 200, listed.get_json()
    return listed.get_json()["items"]


def _unread(client: FlaskClient, caller: Caller) -> int:
    return client.get(f"{URL}/unread", headers=caller.headers).get_json()["unread"]


def test_a_mentor_and_a_mentee_who_share_a_booking_talk_and_a_stranger_cannot(client: FlaskClient, db: Session) -> None:
    mentor, mentee = _pair(client)
    stranger = as_caller(UserFactory())
    one = _open(client, mentee, user_id=str(mentor.user.id))
    assert (one["kind"], one["title"], one["unread"]) == ("pair", mentor.user.display_name, 0)
    assert _open(client, mentor, user_id=str(mentee.user.id))["id"] == one["id"]  # one between two people
    for caller, other in ((stranger, mentor), (mentee, stranger), (mentee, mentee)):
        assert client.post(URL, headers=caller.headers, json={"user_id": str(other.user.id)}).status_code == 404
    assert client.post(URL, headers=mentee.headers, json={"user_id": str(uuid.uuid4())}).status_code == 404
    assert client.get(f"{URL}/{one['id']}/messages", headers=stranger.headers).status_code == 404
    assert client.post(f"{URL}/{one['id']}/messages", headers=stranger.headers, json={"body": "hi"}).status_code == 404

    first = _send(client, mentee, one["id"], "Could we look at *my outline* first? [notes](https://example.com/n)")
    assert (_unread(client, mentor), _unread(client, mentee)) == (1, 0)  # one's own count as read
    second = _send(client, mentor, one["id"], "Yes:\n- the intro\n- the `demo`")
    assert (first["seq"], second["seq"]) == (1, 2)
    assert first["html"] == ('<p>Could we look at <em>my outline</em> first? <a href="https://example.com/n" '
                             'rel="nofollow noopener noreferrer">notes</a> (https://example.com/n)</p>\n')
    assert "<ul>\n<li>the intro</li>\n<li>the <code>demo</code></li>\n</ul>" in second["html"]
    assert [m["sender_name"] for m in _messages(client, mentor, one["id"])] == [
        mentee.user.display_name, mentor.user.display_name]
    assert (_unread(client, mentor), _unread(client, mentee)) == (0, 1)  # writing, one has read what came before
    assert client.post(f"{URL}/{one['id']}/read", headers=mentee.headers, json={"seq": 99}).get_json() == {"seq": 2}
    assert (_unread(client, mentor), _unread(client, mentee)) == (0, 0)
    assert _messages(client, mentee, one["id"], after=1)[0]["id"] == second["id"]
    assert [m["seq"] for m in _messages(client, mentee, one["id"], before=2)] == [1]

    # Edited within 15 minutes; not after.
    edited = client.patch(f"{URL}/{one['id']}/messages/{first['id']}", headers=mentee.headers,
                          json={"body": "Could we look at the outline first?"})
    assert edited.status_code == 200 and edited.get_json()["edited_at"] is not None, edited.get_json()
    assert client.patch(f"{URL}/{one['id']}/messages/{first['id']}", headers=mentor.headers,
                        json={"body": "not mine"}).status_code == 403
    db.execute(update(Message).where(Message.id == uuid.UUID(second["id"])).values(
        created_at=Message.created_at - timedelta(minutes=16)))
    late = client.patch(f"{URL}/{one['id']}/messages/{second['id']}", headers=mentor.headers, json={"body": "late"})
    assert late.status_code == 400 and "within 15 minutes" in late.get_json()["message"]
    # Deleted: its place stays, without words.
    assert client.delete(f"{URL}/{one['id']}/messages/{second['id']}", headers=mentor.headers).status_code == 204
    gone = _messages(client, mentee, one["id"])[1]
    assert (gone["seq"], gone["body"], gone["html"], gone["deleted_at"] is not None) == (2, None, None, True)
    assert client.delete(f"{URL}/{one['id']}/messages/{second['id']}", headers=mentor.headers).status_code == 400
    kinds = db.scalars(select(OutboxEvent.type).where(OutboxEvent.type.like("message.%"))).all()
    assert sorted(kinds) == ["message.created", "message.created", "message.deleted", "message.edited"]


def test_hostile_text_is_refused_or_made_harmless(client: FlaskClient, db: Session) -> None:
    mentor, mentee = _pair(client)
    one = _open(client, mentee, user_id=str(mentor.user.id))["id"]
    for bad in ({"body": "x" * 4001}, {"body": ""}, {"body": "a\x00b"}, {"body": 5}, {},
                {"body": "hi", "points_to_kind": "booking"}, {"body": "hi", "points_to_kind": "nothing",
                                                              "points_to_id": str(uuid.uuid4())}):
        refused = client.post(f"{URL}/{one}/messages", headers=mentee.headers, json=bad)
        assert refused.status_code in (400, 422), (bad, refused.get_json())
    assert client.post(f"{URL}/{one}/messages", headers=mentee.headers,
                       json={"body": " \u202e\u2066 \n\x07 "}).status_code == 422  # nothing left once cleaned
    others = client.post(f"{URL}/{one}/messages", headers=mentee.headers, json={
        "body": "see this", "points_to_kind": "booking", "points_to_id": str(uuid.uuid4())})
    assert others.status_code == 400, others.get_json()
    assert others.get_json()["errors"] == {"field": "points_to_id"}, others.get_json()
    assert _messages(client, mentee, one) == []  # nothing half-written
    sent = _send(client, mentee, one, "<script>alert(1)</script> [x](javascript:alert(1)) "
                                      "\u202egnp.exe \u0645\u0631\u062d\u0628\u0627\u200d\U0001F44B\u200c\u0628\u0643")
    assert "<script>" not in sent["html"] and "&lt;script&gt;" in sent["html"]
    assert "href" not in sent["html"]  # a javascript: link stays inert text
    assert "\u202e" not in sent["body"] and "\u200d" in sent["body"] and "\u200c" in sent["body"]
    assert len(_send(client, mentee, one, "y" * 4000)["body"]) == 4000
    # The longest message in any script fits the request, even as a client that escapes every character sends it
    # (Python's json.dumps: six or twelve bytes a character, 48 KB for 4,000 emoji).
    for words in ("日" * 4000, "😀" * 4000, "م" * 4000):
        escaped = client.post(f"{URL}/{one}/messages", data=json.dumps({"body": words}),
                              headers={**mentee.headers, "Content-Type": "application/json"})
        assert escaped.status_code == 201 and escaped.get_json()["body"] == words, escaped.get_json()


def test_a_participant_talks_with_the_coordinators_who_share_one_conversation(client: FlaskClient, db: Session
                                                                             ) -> None:
    coordinator, programme = running_programme(client)
    mentee, _ = joined(client, coordinator, programme, "mentee")
    outsider = as_caller(UserFactory())
    desk = _open(client, mentee, programme_id=programme["id"])
    assert (desk["kind"], desk["title"]) == ("desk", f"The coordinators of {programme['name']}")
    seen = _open(client, coordinator, programme_id=programme["id"], participant_user_id=str(mentee.user.id))
    assert (seen["id"], seen["title"]) == (desk["id"], f"{mentee.user.display_name}, of {programme['name']}")
    assert client.post(URL, headers=outsider.headers, json={"programme_id": programme["id"]}).status_code == 404
    assert client.post(URL, headers=coordinator.headers, json={
        "programme_id": programme["id"], "participant_user_id": str(outsider.user.id)}).status_code == 400
    _send(client, mentee, desk["id"], "When is the kick-off?")
    _send(client, coordinator, desk["id"], "Monday at ten.")
    assert [c["id"] for c in client.get(URL, headers=coordinator.headers).get_json()["items"]] == [desk["id"]]
    # One who left reads it still, and writes no more.
    assert client.post(f"{BASE}/{programme['id']}/leave", headers=mentee.headers, json={}).status_code == 200
    assert len(_messages(client, mentee, desk["id"])) == 2
    assert client.post(f"{URL}/{desk['id']}/messages", headers=mentee.headers,
                       json={"body": "one more"}).status_code == 403


def test_one_finds_ones_own_conversations_by_words_in_three_scripts(client: FlaskClient, db: Session) -> None:
    mentor, mentee = _pair(client)
    other_mentor, _ = _pair(client)
    eavesdropper = as_caller(other_mentor.user)
    one = _open(client, mentee, user_id=str(mentor.user.id))["id"]
    for words in ("Let us review the quarterly roadmap", "来週の会議について話しましょう",
                  "مرحبا، هل يمكننا الحديث غدا؟"):
        _send(client, mentor, one, words)
    for query in ("roadmap", "会議", "話", "الحديث", "غد", "ro"):
        found = client.get(URL, headers=mentee.headers, query_string={"q": query}).get_json()["items"]
        assert [c["id"] for c in found] == [one], query
        assert client.get(URL, headers=eavesdropper.headers, query_string={"q": query}).get_json()["items"] == []
    assert client.get(URL, headers=mentee.headers, query_string={"q": "nothing like it"}).get_json()["items"] == []
    assert client.get(URL, headers=mentee.headers, query_string={"q": "x" * 201}).status_code == 422
    assert client.get(URL, headers=mentee.headers, query_string={"q": "%"}).get_json()["items"] == []


def test_sending_is_idempotent_and_the_words_are_kept_only_in_the_message(client: FlaskClient, db: Session) -> None:
    mentor, mentee = _pair(client)
    one = _open(client, mentee, user_id=str(mentor.user.id))["id"]
    headers = {**mentee.headers, "Idempotency-Key": "send-1"}
    first = client.post(f"{URL}/{one}/messages", headers=headers, json={"body": "aubergine confidential"})
    again = client.post(f"{URL}/{one}/messages", headers=headers, json={"body": "aubergine confidential"})
    assert (first.status_code, again.status_code, again.headers.get("Idempotent-Replayed")) == (201, 201, "true")
    assert again.get_json()["id"] == first.get_json()["id"] and "body" not in again.get_json()
    assert db.scalar(select(func.count()).select_from(Message)) == 1
    db.flush()
    assert client.delete(f"{URL}/{one}/messages/{first.get_json()['id']}", headers=mentee.headers).status_code == 204
    # Every text column of every table: the words are nowhere now.
    columns = db.execute(text("SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = "
                              "'public' AND data_type IN ('text', 'character varying', 'jsonb', 'json')")).all()
    holding = [f"{table}.{column}" for table, column in columns if db.scalar(text(  # names from the catalogue
        f'SELECT count(*) FROM "{table}" WHERE "{column}"::text LIKE :words'), {"words": "%aubergine%"})]  # noqa: S608
    assert holding == []


def test_two_people_writing_at_once_are_numbered_in_one_order(seed: Session, committed: sessionmaker[Session],
                                                              configure: Callable[..., None]) -> None:
    configure(MESSAGE_RATE_LIMIT="100/minute")
    listing = ListingFactory()
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    seed.commit()
    app = live_app(committed)
    client = app.test_client()
    assert request_booking(client, mentee, listing.id, future())[0] == 201
    one = _open(client, mentee, user_id=str(mentor.user.id))["id"]

    def writing(caller: Caller, name: str) -> Callable[[], int]:
        def write() -> int:
            own = app.test_client()
            return sum(own.post(f"{URL}/{one}/messages", headers=caller.headers,
                                json={"body": f"{name} {n}"}).status_code == 201 for n in range(10))
        return write

    assert concurrently([writing(mentee, "mentee"), writing(mentor, "mentor")]) == [10, 10]
    shown = _messages(client, mentor, one, limit=100)
    assert [m["seq"] for m in shown] == list(range(1, 21))
    for name in ("mentee", "mentor"):  # each writer's messages in the order they wrote them
        assert [m["body"] for m in shown if m["body"].startswith(name)] == [f"{name} {n}" for n in range(10)]
    with committed() as db:
        seqs = db.scalars(select(OutboxEvent.payload["seq"].as_integer()).where(
            OutboxEvent.type == "message.created").order_by(OutboxEvent.payload["seq"].as_integer())).all()
        assert seqs == list(range(1, 21))


def test_a_sender_past_the_limit_is_refused_and_others_write_on(seed: Session, committed: sessionmaker[Session],
                                                               configure: Callable[..., None]) -> None:
    configure(MESSAGE_RATE_LIMIT="5/minute;50/hour")
    listing = ListingFactory()
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    seed.commit()
    client = live_app(committed).test_client()
    assert request_booking(client, mentee, listing.id, future())[0] == 201
    one = _open(client, mentee, user_id=str(mentor.user.id))["id"]
    answers = [client.post(f"{URL}/{one}/messages", headers=mentee.headers, json={"body": f"m{n}"}).status_code
               for n in range(7)]
    assert answers == [201] * 5 + [429, 429]
    assert client.post(f"{URL}/{one}/messages", headers=mentor.headers, json={"body": "still here"}).status_code == 201
    assert len(_messages(client, mentor, one)) == 6


def test_a_conversation_past_its_limit_is_refused_and_others_go_on(seed: Session, committed: sessionmaker[Session],
                                                                   configure: Callable[..., None]) -> None:
    configure(CONVERSATION_RATE_LIMIT="4/minute")
    listing = ListingFactory()
    mentor, mentee, stranger = as_caller(listing.mentor_profile.user), as_caller(UserFactory()), \
        as_caller(UserFactory())
    other_mentee = as_caller(UserFactory())
    seed.commit()
    client = live_app(committed).test_client()
    for one in (mentee, other_mentee):
        assert request_booking(client, one, listing.id, future())[0] == 201
    one = _open(client, mentee, user_id=str(mentor.user.id))["id"]
    for _ in range(6):  # a stranger's attempts do not use the conversation's limit up
        assert client.post(f"{URL}/{one}/messages", headers=stranger.headers, json={"body": "x"}).status_code == 404
    answers = [client.post(f"{URL}/{one}/messages", headers=(mentee, mentor)[n % 2].headers,
                           json={"body": f"m{n}"}).status_code for n in range(6)]
    assert answers == [201] * 4 + [429, 429]  # both writers together
    assert len(_messages(client, mentor, one)) == 4  # the refused were not written
    elsewhere = _open(client, other_mentee, user_id=str(mentor.user.id))["id"]
    assert client.post(f"{URL}/{elsewhere}/messages", headers=mentor.headers, json={"body": "hi"}).status_code == 201


def test_a_messages_events_reach_its_people_live_and_by_webhook_and_no_admin(client: FlaskClient, db: Session) -> None:
    mentor, mentee = _pair(client)
    admin = as_caller(UserFactory(is_admin=True))
    hooks = {}
    for caller in (admin, mentee, mentor):
        hooks[caller.user.id] = client.post("/api/v1/webhook-endpoints", headers=caller.headers, json={
            "url": "https://hooks.example.com/in", "event_types": ["*"]}).get_json()["id"]
    one = _open(client, mentee, user_id=str(mentor.user.id))["id"]
    sent = _send(client, mentee, one, "saffron secret")
    events = list(db.scalars(select(OutboxEvent).where(OutboxEvent.type == "message.created")))
    fanout.fan_out_events(db, events)
    delivered = {caller.user.id: [m["event_type"] for m in client.get(
        f"/api/v1/webhook-endpoints/{hooks[caller.user.id]}/deliveries", headers=caller.headers).get_json()["items"]]
        for caller in (admin, mentee, mentor)}
    assert delivered == {admin.user.id: [], mentee.user.id: ["message.created"], mentor.user.id: ["message.created"]}
    prefix = "live"
    channels = live.channels_for(prefix, from_outbox(events[0]))
    assert sorted(channels) == sorted(user_channel(prefix, caller.user.id) for caller in (mentee, mentor))
    frame = live.frames(from_outbox(events[0]), mentor.user.id, None, {})
    assert len(frame) == 1 and sent["id"] in frame[0] and "saffron" not in frame[0]
    assert live.frames(from_outbox(events[0]), admin.user.id, None, {}) == []


def test_a_deleted_accounts_messages_keep_their_places_without_their_words(client: FlaskClient, db: Session) -> None:
    mentor, mentee = _pair(client)
    one = _open(client, mentee, user_id=str(mentor.user.id))["id"]
    _send(client, mentee, one, "quince private thought")
    _send(client, mentor, one, "Noted.")
    assert client.delete("/api/v1/me", headers=mentee.headers, json={"current_password": PASSWORD}).status_code == 204
    shown = _messages(client, mentor, one)
    assert [(m["sender_name"], m["body"], m["deleted_at"] is not None) for m in shown] == [
        ("Deleted user", None, True), (mentor.user.display_name, "Noted.", False)]
    assert db.scalar(select(func.count()).select_from(Message).where(Message.body.like("%quince%"))) == 0


def _latest_message_event(db: Session) -> OutboxEvent:
    return max(db.scalars(select(OutboxEvent).where(OutboxEvent.type == "message.created")),
               key=lambda event: event.payload["seq"])


def test_a_group_sessions_mentor_and_seated_mentees_share_one_conversation(client: FlaskClient, db: Session) -> None:
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=3, title="Design clinic")
    mentor = as_caller(listing.mentor_profile.user)
    start = (future() + timedelta(days=2)).replace(minute=0, second=0, microsecond=0).isoformat()
    session = client.post(f"/api/v1/listings/{listing.id}/group-sessions", json={"start_time": start},
                          headers=mentor.headers).get_json()["id"]
    first, second, outsider = (as_caller(UserFactory()) for _ in range(3))
    for mentee in (first, second):
        assert client.post(f"/api/v1/sessions/{session}/join", headers=mentee.headers).status_code == 201
    group = _open(client, first, session_id=session)
    assert (group["kind"], group["title"], group["session_id"]) == ("group", "The group of Design clinic", session)
    # Its title in the language the reader's client asks for; the listing's title as its mentor wrote it.
    french = client.get(f"/api/v1/conversations/{group['id']}", headers={**second.headers, "Accept-Language": "fr"})
    assert french.get_json()["title"] == "Le groupe de Design clinic"
    assert _open(client, mentor, session_id=session)["id"] == _open(client, second, session_id=session)["id"] \
        == group["id"]  # one per group session
    for caller, body in ((outsider, {"session_id": session}), (first, {"session_id": str(uuid.uuid4())}),
                         (mentor, {"session_id": session, "user_id": str(first.user.id)})):
        assert client.post(URL, headers=caller.headers, json=body).status_code in (404, 422)
    assert client.get(f"{URL}/{group['id']}/messages", headers=outsider.headers).status_code == 404

    _send(client, mentor, group["id"], "Bring one sketch each.")
    _send(client, first, group["id"], "Will do.")
    assert (_unread(client, mentor), _unread(client, first), _unread(client, second)) == (1, 0, 2)
    event = _latest_message_event(db)
    assert sorted(event.payload["member_user_ids"]) == sorted(str(c.user.id) for c in (mentor, first, second))
    assert [c["title"] for c in client.get(URL, headers=second.headers, query_string={"q": "clinic"})
            .get_json()["items"]] == ["The group of Design clinic"]

    # Giving up one's seat is leaving the conversation: it is no longer one's to read or write in.
    assert client.post(f"/api/v1/sessions/{session}/cancel", json={"reason": "ill"},
                       headers=second.headers).status_code == 200
    refused = client.post(f"{URL}/{group['id']}/messages", headers=second.headers, json={"body": "still here?"})
    assert refused.status_code == 404
    assert group["id"] not in [c["id"] for c in client.get(URL, headers=second.headers).get_json()["items"]]
    _send(client, first, group["id"], "See you there.")
    last = _latest_message_event(db)
    assert last.payload["seq"] == 3 and str(second.user.id) not in last.payload["member_user_ids"]
    # The mentor cancels the session: those who held a seat then still read what was said; not one who had left.
    assert client.post(f"/api/v1/sessions/{session}/cancel", json={"reason": "mentor ill"},
                       headers=mentor.headers).status_code == 200
    assert len(_messages(client, first, group["id"])) == 3
    assert client.get(f"{URL}/{group['id']}/messages", headers=second.headers).status_code == 404
    assert client.get(f"/api/v1/sessions/{session}", headers=second.headers).status_code == 404


def test_a_muted_conversation_stays_readable_and_is_neither_counted_nor_emailed(client: FlaskClient, db: Session
                                                                                ) -> None:
    mentor, mentee = _pair(client)
    one = _open(client, mentee, user_id=str(mentor.user.id))["id"]
    def owed() -> ConversationRead:
        message_mail.owe(db, list(db.scalars(select(OutboxEvent).where(OutboxEvent.type == "message.created"))))
        return db.scalars(select(ConversationRead).execution_options(populate_existing=True).where(
            ConversationRead.conversation_id == uuid.UUID(one), ConversationRead.user_id == mentor.user.id)).one()

    _send(client, mentee, one, "First question.")
    assert owed().email_due_at is not None
    muted = client.post(f"{URL}/{one}/mute", headers=mentor.headers)
    assert muted.status_code == 200 and (muted.get_json()["muted"], muted.get_json()["unread"]) == (True, 1)
    # Its owed email is dropped, and a new message owes none.
    _send(client, mentee, one, "Second question.")
    row = owed()
    assert (row.muted_at is not None, row.email_due_at) == (True, None)
    assert _unread(client, mentor) == 0  # the menu counts it no more
    assert [m["body"] for m in _messages(client, mentor, one)] == ["First question.", "Second question."]
    assert client.post(f"{URL}/{one}/mute", headers=as_caller(UserFactory()).headers).status_code == 404
    heard = client.delete(f"{URL}/{one}/mute", headers=mentor.headers)
    assert heard.status_code == 200 and heard.get_json()["muted"] is False
    assert _unread(client, mentor) == 2
