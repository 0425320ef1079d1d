"""Reminders before a session: each participant once per offset, in their timezone; none once cancelled."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.environment import ConfigError, reminder_offsets
from models import (
    MentorProfile,
    MentorshipSession,
    Notification,
    OutboxEvent,
    OutboxHandler,
    SessionReminder,
    SessionStatus,
)
from tests.database import notifications_read
from tests.factories.sessions import group_session, individual_session
from workflows import wording
from workflows.events import EventType
from workflows.inbox import Shown
from workflows.payloads import GROUP_KEY
from workflows.sessions import reminders

NOW = datetime(2030, 3, 1, 12, 0, tzinfo=UTC)


def mentor_of(db: Session, session: MentorshipSession) -> uuid.UUID:
    return db.get_one(MentorProfile, session.mentor_profile_id).user_id


def reminders_of(db: Session, session: MentorshipSession) -> list[Shown]:
    """The session's reminders, as their readers read them."""
    return notifications_read(db, Notification.type == EventType.SESSION_REMINDER,
                              Notification.data["resource"]["id"].astext == str(session.id))


def reminder_events(db: Session, session: MentorshipSession) -> list[OutboxEvent]:
    return list(db.scalars(select(OutboxEvent).where(
        OutboxEvent.type == EventType.SESSION_REMINDER, OutboxEvent.aggregate_id == session.id)
        .order_by(OutboxEvent.created_at)))


def test_each_participant_is_reminded_once_per_offset_in_their_own_timezone(db: Session) -> None:
    start = NOW + timedelta(hours=23, minutes=30)  # 2030-03-02 11:30 UTC
    session = individual_session(db, start, mentee_timezone="Asia/Tokyo", mentor_timezone="Europe/Paris")
    mentor = mentor_of(db, session)
    individual_session(db, start + timedelta(minutes=1))  # another one, told alongside

    assert reminders.send_due_reminders(db, now=NOW) == 4
    assert reminders.send_due_reminders(db, now=NOW + timedelta(minutes=1)) == 0  # beat again: nothing new
    told = {n.user_id: n for n in reminders_of(db, session)}
    assert set(told) == {mentor, session.mentee_user_id}
    # The mentee's own timezone; the mentor has none of their own, so their profile's; each named (changed on
    # purpose: a reader's own zone used to go unnamed).
    assert told[session.mentee_user_id].body.endswith("at Sat 2 Mar, 20:30 (Asia/Tokyo).")
    assert told[mentor].body.endswith("at Sat 2 Mar, 12:30 (Europe/Paris).")
    assert "24 hours" in told[mentor].body
    assert all(n.data["resource"]["offset_seconds"] == 86400 for n in told.values())

    assert reminders.send_due_reminders(db, now=start - timedelta(minutes=40)) == 4  # the one-hour reminder
    assert reminders.send_due_reminders(db, now=start - timedelta(minutes=20)) == 0
    assert len(reminders_of(db, session)) == 4
    events = reminder_events(db, session)
    assert [e.payload["offset_seconds"] for e in events] == [86400, 3600]
    assert all(e.payload["status"] == SessionStatus.SCHEDULED for e in events)
    # Routed to the webhook fan-out only: the beat task told the people itself.
    handlers = db.scalars(select(OutboxHandler.handler).where(OutboxHandler.event_id == events[0].id)).all()
    assert handlers == ["webhooks.fan_out"]


def test_a_user_without_timezone_and_a_mentor_profile_without_one_read_utc(db: Session) -> None:
    session = individual_session(db, NOW + timedelta(minutes=30), mentor_timezone="Not/AZone")
    reminders.send_due_reminders(db, now=NOW)
    assert {n.body.endswith("at Fri 1 Mar, 12:30 (UTC).") for n in reminders_of(db, session)} == {True}


def test_every_seat_of_a_group_session_is_reminded_and_the_event_names_them_for_the_mentor(db: Session) -> None:
    session, mentees = group_session(db, NOW + timedelta(minutes=50), seats=3)
    assert reminders.send_due_reminders(db, now=NOW) == 4
    told = {n.user_id: n for n in reminders_of(db, session)}
    assert set(told) == {mentor_of(db, session), *mentees}
    assert GROUP_KEY in told[mentor_of(db, session)].data["resource"]
    assert GROUP_KEY not in told[mentees[0]].data["resource"]  # a mentee never sees the other mentees
    (event,) = reminder_events(db, session)
    assert sorted(event.payload[GROUP_KEY]) == sorted(str(m) for m in mentees)


def test_a_session_booked_after_a_reminder_time_gets_only_the_nearer_reminder(db: Session) -> None:
    session = individual_session(db, NOW + timedelta(minutes=30))
    reminders.send_due_reminders(db, now=NOW)
    offsets = db.scalars(select(SessionReminder.offset_seconds).where(SessionReminder.session_id == session.id))
    assert set(offsets) == {3600}


def test_no_reminder_for_a_cancelled_session_nor_one_already_started_or_far_ahead(db: Session) -> None:
    cancelled = individual_session(db, NOW + timedelta(minutes=30))
    cancelled.status = SessionStatus.CANCELLED
    started = individual_session(db, NOW - timedelta(minutes=5))
    far = individual_session(db, NOW + timedelta(days=2))
    db.flush()
    assert reminders.send_due_reminders(db, now=NOW) == 0
    for session in (cancelled, started, far):
        assert reminders_of(db, session) == []
        assert reminder_events(db, session) == []


def test_rows_claimed_by_another_run_are_not_told_again(db: Session) -> None:
    """The unique key decides: a participant whose row exists (another beat's run) is not notified twice."""
    session = individual_session(db, NOW + timedelta(minutes=30))
    people = reminders.participants_of(db, session)
    assert {p.user_id for p in people} == {mentor_of(db, session), session.mentee_user_id}
    assert reminders._claim(db, session.id, 3600, people) == {p.user_id for p in people}
    assert reminders._claim(db, session.id, 3600, people) == set()


def english(word: object) -> str:
    """A word of a reminder as an English reader reads it."""
    return wording.render("{word}", {"word": word}, None, "en")


def test_each_offset_is_superseded_by_the_next_nearer_one() -> None:
    hours = [timedelta(hours=24), timedelta(hours=1)]
    assert reminders.due_windows(hours) == [(hours[0], hours[1]), (hours[1], timedelta(0))]
    assert english(reminders.in_words(timedelta(hours=24))) == "24 hours"
    assert english(reminders.in_words(timedelta(hours=1))) == "1 hour"
    assert english(reminders.in_words(timedelta(seconds=90))) == "90 seconds"


def test_a_reminder_says_how_long_is_really_left() -> None:
    # On time (beat runs a little after the offset), or late: booked two and a half hours before.
    assert english(reminders.time_left_in_words(timedelta(hours=23, minutes=59, seconds=30))) == "24 hours"
    assert english(reminders.time_left_in_words(timedelta(hours=2, minutes=40))) == "3 hours"
    assert english(reminders.time_left_in_words(timedelta(minutes=59, seconds=50))) == "1 hour"
    assert english(reminders.time_left_in_words(timedelta(minutes=14, seconds=20))) == "14 minutes"
    assert english(reminders.time_left_in_words(timedelta(seconds=20))) == "less than a minute"


def test_reminder_offsets_setting() -> None:
    assert reminder_offsets("1h, 24h") == (timedelta(hours=24), timedelta(hours=1))
    assert reminder_offsets("2s,1s") == (timedelta(seconds=2), timedelta(seconds=1))
    with pytest.raises(ConfigError):
        reminder_offsets("0s")
    with pytest.raises(ConfigError):
        reminder_offsets("1.5s")

