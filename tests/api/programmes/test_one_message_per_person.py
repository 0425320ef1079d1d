"""What people read of a programme's moves, through a real SMTP server: a pause, an end (from the pairing's page or
by its series' own), a leave, a removal, a series accepted and a publication each tell each person once, in one
mail that names the pair and lists the sessions, with the calendar's cancellation (or invitation) of each attached;
and a single cancelled booking's mail takes its event out of the invitee's calendar (``METHOD:CANCEL``, the
invite's UID, a higher SEQUENCE).

The workers' handlers run here in the test's transaction, as the workers run them, until nothing is left; then every
mail owed is sent. The events and webhooks stay one per resource."""

from __future__ import annotations

import uuid
from collections import Counter
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

import pytest
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Booking, EmailStatus, MatchDraft, MentorshipSession, Notification, OutboxEvent, OutboxHandler
from outbox import REGISTRY
from outbox.batches import claim_due
from tests.api_calls import future, request_booking
from tests.factories.accounts import Caller, UserFactory, as_caller
from tests.factories.mentors import ListingFactory
from tests.factories.programmes import BASE, joined, running_programme
from tests.mail import Mailbox
from workflows.calendar_owed import calendar_uid
from workflows.matching import drafts
from workflows.notifications import mail

SERIES = "/api/v1/booking-series"
WORKERS = ("sessions.create_from_booking", "sessions.follow_pairings", "notifications.notify")


def work_through(db: Session) -> None:
    """Run the handlers people's mail depends on over every event left, as the workers do, then send each mail
    owed."""
    works = {spec.name: spec.work for spec in REGISTRY.handler_specs()}
    while True:
        claimed = 0
        for handler in WORKERS:
            events = claim_due(db, handler, limit=500)
            if events:
                works[handler](db, events)
            claimed += len(events)
        if not claimed:
            break
    for notification_id in db.scalars(select(Notification.id).where(
            Notification.email_status == EmailStatus.PENDING).order_by(Notification.created_at)).all():
        mail.deliver_email(db, notification_id)


def subject(message: Message) -> str:
    """The subject as a mail app shows it: decoded, its folded lines joined."""
    return " ".join(str(make_header(decode_header(message["Subject"]))).split())


def text(message: Message) -> str:
    return next(part.get_payload(decode=True).decode() for part in message.walk()
                if part.get_content_type() == "text/plain")


def calendars(message: Message) -> list[Calendar]:
    return [Calendar.from_ical(part.get_payload(decode=True)) for part in message.walk()
            if part.get_content_type() == "text/calendar"]


def received(mailbox: Mailbox, *people: Caller) -> dict[str, list[Message]]:
    """What each of ``people`` received since the mailbox was last emptied."""
    return {caller.user.display_name: mailbox.inbox.to(caller.user.email) for caller in people}


def _active_pairing(client: FlaskClient, db: Session, mailbox: Mailbox, *, count: int = 6
                    ) -> tuple[Caller, Caller, Caller, dict[str, Any], dict[str, Any]]:
    coordinator, programme = running_programme(client, session_count=count, session_minutes=60)
    mentor, mentor_id = joined(client, coordinator, programme, "mentor")
    mentee, mentee_id = joined(client, coordinator, programme, "mentee")
    made = client.post(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers,
                       json={"mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id})
    assert made.status_code == 201, made.get_json()
    pairing = made.get_json()
    assert client.post(f"{SERIES}/{pairing['series_id']}/accept", headers=mentor.headers).status_code == 200
    work_through(db)
    mailbox.inbox.messages.clear()
    return coordinator, mentor, mentee, programme, pairing


def _cancelled_sessions(db: Session, series_id: str) -> list[MentorshipSession]:
    return list(db.scalars(select(MentorshipSession).join(Booking, Booking.id == MentorshipSession.booking_id)
                           .where(Booking.series_id == uuid.UUID(series_id))
                           .order_by(MentorshipSession.start_time)))


def _one_mail_with_cancellations(told: list[Message], sessions: list[MentorshipSession], *, pair: str,
                                 link: str) -> None:
    """One message tells of the move, naming the pair and listing its sessions; each session's calendar cancellation
    is in the message when there is one, else in a message of its own that follows (calendar apps act on one)."""
    main, *apart = told
    assert not subject(main).startswith("Cancelled: "), [subject(m) for m in told]
    body = text(main)
    assert pair in body and link in body, body
    assert body.count("\n- ") == len(sessions), body
    assert len(apart) == (len(sessions) if len(sessions) > 1 else 0), [subject(m) for m in told]
    assert all(subject(m).startswith("Cancelled: ") and subject(main) in text(m) for m in apart)
    cancels = [calendar for message in (apart or [main]) for calendar in calendars(message)]
    assert len(cancels) == len(sessions) and not (apart and calendars(main)), [subject(m) for m in told]
    uids = set()
    for calendar in cancels:
        assert calendar["method"] == "CANCEL"
        (event,) = calendar.walk("VEVENT")
        assert event["status"] == "CANCELLED" and int(event["sequence"]) >= 1
        uids.add(str(event["uid"]))
    assert uids == {calendar_uid(s.id, s.booking_id) for s in sessions}


def test_a_pause_of_six_sessions_tells_each_of_the_pair_once_with_six_calendar_cancellations(
        client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    coordinator, mentor, mentee, programme, pairing = _active_pairing(client, db, mailbox)
    paused = client.post(f"{BASE}/{programme['id']}/pairings/{pairing['id']}/pause", headers=coordinator.headers,
                         json={})
    assert paused.status_code == 200, paused.get_json()
    work_through(db)
    sessions = _cancelled_sessions(db, pairing["series_id"])
    assert len(sessions) == 6 and all(s.status == "cancelled" for s in sessions)
    mails = received(mailbox, mentor, mentee, coordinator)
    link = f"#/programmes/{programme['id']}?pairing={pairing['id']}"
    for reader, other in ((mentor, mentee), (mentee, mentor)):
        told = mails[reader.user.display_name]
        _one_mail_with_cancellations(told, sessions, pair=other.user.display_name, link=link)
        assert subject(told[0]) == "Pairing paused"
        assert "6 coming sessions are cancelled" in text(told[0])
    assert mails[coordinator.user.display_name] == []  # their own move
    # Integrators still read one event per resource.
    kinds = Counter(db.scalars(select(OutboxEvent.type)).all())
    assert (kinds["session.cancelled"], kinds["booking_series.cancelled"], kinds["pairing.paused"]) == (6, 1, 1)
    rows = db.execute(select(OutboxHandler.handler, OutboxHandler.status)
                      .join(OutboxEvent, OutboxEvent.id == OutboxHandler.event_id)
                      .where(OutboxEvent.type == "session.cancelled")).all()
    owed = Counter((handler, status) for handler, status in rows)
    assert owed[("webhooks.fan_out", "pending")] == owed[("calendars.follow_sessions", "pending")] == 6
    assert owed[("analytics.programmes", "pending")] == 6 and not owed[("notifications.notify", "pending")]


def test_an_end_tells_each_of_the_pair_once_and_the_other_coordinators_once(
        client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    coordinator, mentor, mentee, programme, pairing = _active_pairing(client, db, mailbox, count=3)
    ended = client.post(f"{BASE}/{programme['id']}/pairings/{pairing['id']}/end", headers=mentor.headers,
                        json={"reason": "Goals reached"})
    assert ended.status_code == 200, ended.get_json()
    work_through(db)
    sessions = _cancelled_sessions(db, pairing["series_id"])
    mails = received(mailbox, mentor, mentee, coordinator)
    link = f"#/programmes/{programme['id']}?pairing={pairing['id']}"
    for reader, other in ((mentor, mentee), (mentee, mentor)):
        _one_mail_with_cancellations(mails[reader.user.display_name], sessions, pair=other.user.display_name,
                                     link=link)
        assert subject(mails[reader.user.display_name][0]) == "Pairing ended"
    (told,) = mails[coordinator.user.display_name]
    assert subject(told) == "A pairing ended" and calendars(told) == []
    assert f"{mentor.user.display_name} and {mentee.user.display_name}" in text(told) and link in text(told)


def test_a_leave_and_a_removal_tell_each_person_once(client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    coordinator, mentor, mentee, programme, pairing = _active_pairing(client, db, mailbox, count=3)
    left = client.post(f"{BASE}/{programme['id']}/leave", headers=mentee.headers)
    assert left.status_code == 200, left.get_json()
    work_through(db)
    sessions = _cancelled_sessions(db, pairing["series_id"])
    mails = received(mailbox, mentor, mentee, coordinator)
    link = f"#/programmes/{programme['id']}?pairing={pairing['id']}"
    _one_mail_with_cancellations(mails[mentor.user.display_name], sessions, pair=mentee.user.display_name, link=link)
    _one_mail_with_cancellations(mails[mentee.user.display_name], sessions, pair=mentor.user.display_name,
                                 link=f"#/programmes/{programme['id']}")
    assert subject(mails[mentee.user.display_name][0]) == "You left a programme"
    (told,) = mails[coordinator.user.display_name]
    assert subject(told) == "A participant left"

    # A removal: the mentor taken off, with their pairing.
    mailbox.inbox.messages.clear()
    removed_by, other, other_mentee, programme, pairing = _active_pairing(client, db, mailbox, count=2)
    participant = client.get(f"/api/v1/programmes/{programme['id']}", headers=other.headers).get_json()
    removed = client.post(f"{BASE}/{programme['id']}/participants/{participant['participant_id']}/remove",
                          headers=removed_by.headers)
    assert removed.status_code == 200, removed.get_json()
    work_through(db)
    sessions = _cancelled_sessions(db, pairing["series_id"])
    mails = received(mailbox, other, other_mentee)
    _one_mail_with_cancellations(mails[other.user.display_name], sessions, pair=other_mentee.user.display_name,
                                 link=f"#/programmes/{programme['id']}")
    assert subject(mails[other.user.display_name][0]) == "You were taken off a programme"
    _one_mail_with_cancellations(mails[other_mentee.user.display_name], sessions, pair=other.user.display_name,
                                 link=f"#/programmes/{programme['id']}?pairing={pairing['id']}")


def test_a_series_accepted_tells_the_mentee_once_that_the_pairing_is_active_with_every_invitation(
        client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    coordinator, programme = running_programme(client, session_count=6, session_minutes=60)
    mentor, mentor_id = joined(client, coordinator, programme, "mentor")
    mentee, mentee_id = joined(client, coordinator, programme, "mentee")
    work_through(db)
    mailbox.inbox.messages.clear()
    pairing = client.post(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers,
                          json={"mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id}).get_json()
    work_through(db)
    proposed = received(mailbox, mentor, mentee, coordinator)
    assert [subject(m) for m in proposed[mentor.user.display_name]] == ["You are paired with a mentee"]
    assert [subject(m) for m in proposed[mentee.user.display_name]] == ["You are paired with a mentor"]
    mailbox.inbox.messages.clear()
    assert client.post(f"{SERIES}/{pairing['series_id']}/accept", headers=mentor.headers).status_code == 200
    work_through(db)
    mails = received(mailbox, mentor, mentee, coordinator)
    assert mails[mentor.user.display_name] == []  # their own accept
    told, *apart = mails[mentee.user.display_name]
    assert subject(told) == "Your pairing has started" and calendars(told) == []
    link = f"#/programmes/{programme['id']}?pairing={pairing['id']}"
    assert mentor.user.display_name in text(told) and link in text(told)
    assert "6 sessions are confirmed (an invitation for each follows on its own)" in text(told)
    assert all(subject(m).startswith("Invitation: ") for m in apart), [subject(m) for m in apart]
    invites = [calendar for message in apart for calendar in calendars(message)]
    assert len(apart) == len(invites) == 6 and {c["method"] for c in invites} == {"REQUEST"}
    bookings = db.scalars(select(Booking.id).where(Booking.series_id == uuid.UUID(pairing["series_id"]))).all()
    assert {str(c.walk("VEVENT")[0]["uid"]) for c in invites} == {f"{b}@mentorship" for b in bookings}
    (started,) = mails[coordinator.user.display_name]
    assert subject(started) == "A pairing has started" and calendars(started) == []


def test_a_cancelled_booking_takes_its_event_out_of_the_invitees_calendar(
        client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    listing = ListingFactory()
    mentor, mentee = as_caller(listing.mentor_profile.user), as_caller(UserFactory())
    status, booking = request_booking(client, mentee, listing.id, future(days=3))
    assert status == 201
    assert client.post(f"/api/v1/bookings/{booking['id']}/accept", headers=mentor.headers).status_code == 200
    work_through(db)
    (accepted,) = mailbox.inbox.to(mentee.user.email)
    (invite,) = calendars(accepted)
    (invited,) = invite.walk("VEVENT")
    assert invite["method"] == "REQUEST"
    mailbox.inbox.messages.clear()
    session_id = db.scalar(select(MentorshipSession.id).where(
        MentorshipSession.booking_id == uuid.UUID(booking["id"])))
    cancelled = client.post(f"/api/v1/sessions/{session_id}/cancel", headers=mentor.headers,
                            json={"reason": "Ill"})
    assert cancelled.status_code == 200, cancelled.get_json()
    work_through(db)
    (told,) = mailbox.inbox.to(mentee.user.email)
    assert subject(told) == "Session cancelled"
    (cancel,) = calendars(told)
    (event,) = cancel.walk("VEVENT")
    assert cancel["method"] == "CANCEL" and event["status"] == "CANCELLED"
    assert str(event["uid"]) == str(invited["uid"]) == f"{booking['id']}@mentorship"
    assert int(event["sequence"]) > int(invited["sequence"])
    assert [part.get_param("method") for part in told.walk() if part.get_content_type() == "text/calendar"] == [
        "CANCEL"]


def test_a_publication_tells_each_person_once(client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    """A mentor given two mentees by one publication reads one email naming both; it waits while the publication is
    under way."""
    coordinator, programme = running_programme(client, session_count=4, session_minutes=60)
    mentor, mentor_id = joined(client, coordinator, programme, "mentor", capacity=2)
    mentees = [joined(client, coordinator, programme, "mentee") for _ in range(2)]
    for score, (_mentee, mentee_id) in zip((80.0, 70.0), mentees, strict=True):
        db.add(MatchDraft(id=uuid.uuid4(), programme_id=uuid.UUID(programme["id"]),
                          mentor_participant_id=uuid.UUID(mentor_id), mentee_participant_id=uuid.UUID(mentee_id),
                          score=score))
    db.flush()
    work_through(db)
    mailbox.inbox.messages.clear()
    published = client.post(f"{BASE}/{programme['id']}/match-drafts/publish", headers=coordinator.headers)
    assert published.status_code == 202, published.get_json()
    assert drafts.publish_one(db, uuid.UUID(programme["id"]))  # the first draft proposed, the second not yet
    _handle(db, "notifications.notify")
    (first,) = db.scalars(select(Notification.id).where(Notification.user_id == mentor.user.id,
                                                        Notification.email_status == EmailStatus.PENDING))
    with pytest.raises(mail.PublicationUnderWay):
        mail.deliver_email(db, first)
    while drafts.publish_one(db, uuid.UUID(programme["id"])):
        pass
    work_through(db)
    mails = received(mailbox, mentor, *(mentee for mentee, _ in mentees), coordinator)
    pairings = client.get(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers).get_json()["items"]
    links = {pairing["mentee_user_id"]: f"#/programmes/{programme['id']}?pairing={pairing['id']}"
             for pairing in pairings}
    (told,) = mails[mentor.user.display_name]
    assert subject(told) == "You are paired with 2 mentees"
    for mentee, _ in mentees:
        assert mentee.user.display_name in text(told) and links[str(mentee.user.id)] in text(told)
        (own,) = mails[mentee.user.display_name]
        assert subject(own) == "You are paired with a mentor" and mentor.user.display_name in text(own)
        assert links[str(mentee.user.id)] in text(own)
    assert mails[coordinator.user.display_name] == []
    assert db.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == mentor.user.id, Notification.type == "pairing.proposed")) == 2  # one in the app each


def test_a_series_cancelled_from_its_page_ends_its_pairing_and_tells_each_of_the_pair_once(
        client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    coordinator, mentor, mentee, programme, pairing = _active_pairing(client, db, mailbox, count=3)
    refused = client.post(f"{SERIES}/{pairing['series_id']}/cancel", headers=mentor.headers, json={})
    assert refused.status_code == 422, refused.get_json()  # a mentor says why, as for any series
    cancelled = client.post(f"{SERIES}/{pairing['series_id']}/cancel", headers=mentor.headers,
                            json={"reason": "I am changing jobs"})
    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["status"] == "ended"
    work_through(db)
    shown = client.get(f"{BASE}/{programme['id']}/pairings/{pairing['id']}", headers=mentee.headers).get_json()
    assert (shown["status"], shown["ended_by"]) == ("ended", "mentor")
    sessions = _cancelled_sessions(db, pairing["series_id"])
    mails = received(mailbox, mentor, mentee, coordinator)
    link = f"#/programmes/{programme['id']}?pairing={pairing['id']}"
    for reader, other in ((mentor, mentee), (mentee, mentor)):
        _one_mail_with_cancellations(mails[reader.user.display_name], sessions, pair=other.user.display_name,
                                     link=link)
        assert subject(mails[reader.user.display_name][0]) == "Pairing ended"
    assert [subject(m) for m in mails[coordinator.user.display_name]] == ["A pairing ended"]


def test_a_proposed_pairing_s_series_withdrawn_by_its_mentee_ends_it_told_once(
        client: FlaskClient, db: Session, mailbox: Mailbox) -> None:
    coordinator, programme = running_programme(client, session_count=3, session_minutes=60)
    mentor, mentor_id = joined(client, coordinator, programme, "mentor")
    mentee, mentee_id = joined(client, coordinator, programme, "mentee")
    pairing = client.post(f"{BASE}/{programme['id']}/pairings", headers=coordinator.headers,
                          json={"mentor_participant_id": mentor_id, "mentee_participant_id": mentee_id}).get_json()
    work_through(db)
    mailbox.inbox.messages.clear()
    withdrawn = client.post(f"{SERIES}/{pairing['series_id']}/withdraw", headers=mentee.headers, json={})
    assert withdrawn.status_code == 200, withdrawn.get_json()
    assert withdrawn.get_json()["status"] == "withdrawn"
    work_through(db)
    mails = received(mailbox, mentor, mentee, coordinator)
    assert [subject(m) for m in mails[mentor.user.display_name]] == ["Pairing ended"]
    assert [subject(m) for m in mails[coordinator.user.display_name]] == ["A pairing ended"]
    shown = client.get(f"{BASE}/{programme['id']}/pairings/{pairing['id']}", headers=mentee.headers).get_json()
    assert (shown["status"], shown["ended_by"]) == ("ended", "mentee")


def _handle(db: Session, handler: str) -> None:
    works = {spec.name: spec.work for spec in REGISTRY.handler_specs()}
    while events := claim_due(db, handler, limit=500):
        works[handler](db, events)
