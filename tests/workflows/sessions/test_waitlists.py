"""Waitlists of full group sessions (``workflows/sessions/waitlists.py``): only a full session has a line; a freed seat
is offered to the first in line (held from anyone else's join) or given at once to one who asked; an offer taken,
declined or run out; a capacity raise; never an offer past an hour before the start; a cancelled session's line
closed, everyone told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ListingKind, Notification, OutboxEvent, WaitlistStatus
from tests.database import notifications_read, payloads_of, refused
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.mentors import ListingFactory
from workflows import history
from workflows.actors import Actor
from workflows.errors import Conflict
from workflows.notifications import mail, messages
from workflows.sessions import group as group_sessions
from workflows.sessions import lifecycle as sessions
from workflows.sessions import waitlists

NOW = datetime.now(UTC)


@pytest.fixture
def full(db: Session) -> tuple[Actor, Any, list[Actor]]:
    """A group session two days ahead with two seats, both taken: its mentor, the session, the two seated."""
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=2, title="Compiler club")
    mentor = actor_of(listing.mentor_profile.user)
    session = group_sessions.schedule_group_session(db, mentor, listing.id, start_time=NOW + timedelta(days=2))
    seated = [actor_of(UserFactory()) for _ in range(2)]
    for mentee in seated:
        group_sessions.join_group_session(db, mentee, session.id)
    return mentor, session, seated


def test_a_freed_seat_is_offered_to_the_first_in_line_and_held_from_everyone_else(
        db: Session, full: tuple[Actor, Any, list[Actor]]) -> None:
    _mentor, session, seated = full
    first, second, third, stranger = (actor_of(UserFactory()) for _ in range(4))
    entries = [waitlists.join(db, who, session.id) for who in (first, second, third)]
    assert [waitlists.position(db, e) for e in entries] == [1, 2, 3]
    refused(db, Conflict, lambda: waitlists.join(db, first, session.id))  # in line once
    refused(db, Conflict, lambda: waitlists.join(db, seated[0], session.id))  # seated already

    sessions.cancel_session(db, seated[0], session.id, reason="Exams")
    assert (entries[0].status, waitlists.position(db, entries[1])) == (WaitlistStatus.OFFERED, 1)
    assert NOW + timedelta(minutes=119) < entries[0].offer_expires_at <= datetime.now(UTC) + timedelta(minutes=120)
    assert [p["mentee_user_id"] for p in payloads_of(db, "waitlist.offered")] == [str(first.user_id)]
    # The seat is held: neither a stranger nor the second in line takes it by joining.
    for other in (stranger, second):
        error = refused(db, Conflict, lambda who=other: group_sessions.join_group_session(db, who, session.id))
        assert error.message == "this group session is full"
    seat = group_sessions.join_group_session(db, first, session.id)
    assert (entries[0].status, entries[0].booking_id) == (WaitlistStatus.PROMOTED, seat.id)
    assert session.seats_taken == 2

    # Declined: it passes to the next.
    sessions.cancel_session(db, seated[1], session.id, reason="Moved away")
    assert entries[1].status == WaitlistStatus.OFFERED
    waitlists.leave(db, second, session.id)
    assert (entries[1].status, entries[2].status) == (WaitlistStatus.LEFT, WaitlistStatus.OFFERED)

    # Not taken in time: the sweep passes it on; nobody is left, so the seat is open to all.
    assert waitlists.expire_offers(db, now=entries[2].offer_expires_at + timedelta(seconds=1)) == 1
    assert entries[2].status == WaitlistStatus.EXPIRED
    assert [p["status"] for p in payloads_of(db, "waitlist.expired")] == ["expired"]
    assert group_sessions.join_group_session(db, stranger, session.id).group_session_id == session.id
    # The mentor reads the line in the session's history; a seated mentee does not.
    told = [e.type for e in history.session_timeline(db, _mentor, session.id, limit=100, cursor=None).items]
    assert sorted(t for t in told if t.startswith("waitlist.")) == [  # one transaction here: one time, any order
        "waitlist.expired", "waitlist.offered", "waitlist.offered", "waitlist.offered", "waitlist.promoted"]
    seen = history.session_timeline(db, first, session.id, limit=100, cursor=None).items
    assert not [e for e in seen if e.type.startswith("waitlist.")]
    # Told of the seat held for them; not of the seat they took themself.
    messages.handle_events(db, list(db.scalars(select(OutboxEvent).where(OutboxEvent.type.like("waitlist.%")))))
    told = [n.title for n in notifications_read(db, Notification.user_id == first.user_id)]
    assert told == ["A seat is free for you"]


def test_a_capacity_raise_gives_seats_in_order_at_once_to_who_asked_and_offers_the_rest(
        db: Session, full: tuple[Actor, Any, list[Actor]]) -> None:
    mentor, session, _seated = full
    eager, patient = actor_of(UserFactory()), actor_of(UserFactory())
    first = waitlists.join(db, eager, session.id, take_at_once=True)
    second = waitlists.join(db, patient, session.id)
    refused(db, Conflict, lambda: group_sessions.set_capacity(db, mentor, session.id, 1))  # below the seats taken
    group_sessions.set_capacity(db, mentor, session.id, 4)
    assert first.status == WaitlistStatus.PROMOTED and first.booking_id is not None
    assert second.status == WaitlistStatus.OFFERED
    assert session.seats_taken == 3
    assert [p["mentee_user_id"] for p in payloads_of(db, "waitlist.promoted")] == [str(eager.user_id)]
    # Every seat taken or held: a newcomer waits. One more seat, nobody else waiting: a newcomer joins instead.
    newcomer = waitlists.join(db, actor_of(UserFactory()), session.id)
    assert waitlists.position(db, newcomer) == 1
    group_sessions.set_capacity(db, mentor, session.id, 6)
    assert newcomer.status == WaitlistStatus.OFFERED
    error = refused(db, Conflict, lambda: waitlists.join(db, actor_of(UserFactory()), session.id))
    assert error.details["seats_free"] is True


def test_no_offer_runs_past_an_hour_before_the_start_and_a_cancelled_sessions_line_is_told(db: Session) -> None:
    listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=2)
    mentor = actor_of(listing.mentor_profile.user)
    start = NOW + timedelta(minutes=150)
    session = group_sessions.schedule_group_session(db, mentor, listing.id, start_time=start)
    seated = [actor_of(UserFactory()) for _ in range(2)]
    for mentee in seated:
        group_sessions.join_group_session(db, mentee, session.id)
    waiting = [waitlists.join(db, actor_of(UserFactory()), session.id) for _ in range(2)]
    sessions.cancel_session(db, seated[0], session.id, reason="Ill")
    assert waiting[0].offer_expires_at == start - timedelta(hours=1)  # not the 120 minutes it would otherwise be

    sessions.cancel_session(db, mentor, session.id, reason="The room flooded")
    assert {w.status for w in waiting} == {WaitlistStatus.CLOSED}
    assert sorted(p["mentee_user_id"] for p in payloads_of(db, "waitlist.expired")) == sorted(
        str(w.user_id) for w in waiting)


def test_a_seat_given_at_once_is_told_once_with_its_invite(db: Session, full: tuple[Actor, Any, list[Actor]]) -> None:
    _mentor, session, seated = full
    eager = actor_of(UserFactory())
    entry = waitlists.join(db, eager, session.id, take_at_once=True)
    sessions.cancel_session(db, seated[0], session.id, reason="Exams")
    assert entry.status == WaitlistStatus.PROMOTED
    messages.handle_events(db, list(db.scalars(select(OutboxEvent))))
    told = db.scalars(select(Notification).where(Notification.user_id == eager.user_id)).all()
    assert [n.title for n in notifications_read(db, Notification.user_id == eager.user_id)] == [
        "You have a seat"]  # not also "Booking accepted"
    [invite] = mail.email_attachments(db, told[0])
    assert b"BEGIN:VEVENT" in invite.content and str(session.id).encode() in invite.content
