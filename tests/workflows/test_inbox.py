"""The inbox (``workflows/inbox.py``), called directly: one notification per event, person and kind; only its owner
reads it or marks it read."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Notification, OutboxEvent
from tests.database import refused
from tests.domain_calls import notice
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.sessions import make_session
from workflows import inbox, wording
from workflows.errors import NotFound
from workflows.language import text

START = datetime(2031, 6, 2, 9, 30, tzinfo=UTC)


def event(db: Session, aggregate_id: uuid.UUID, event_type: str) -> OutboxEvent:
    return db.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == aggregate_id,
                                                OutboxEvent.type == event_type)).one()


def test_one_notification_per_event_person_and_kind(db: Session) -> None:
    user = UserFactory()
    _mentor, _mentee, session = make_session(db, START)
    event_id = event(db, session.id, "session.scheduled").id
    first = inbox.notify_user(db, user.id, type_="team.invited", said=notice("t", "b"), data={},
                                      event_id=event_id)
    again = inbox.notify_user(db, user.id, type_="team.invited", said=notice("t", "b"), data={},
                                      event_id=event_id)
    other_kind = inbox.notify_user(db, user.id, type_="team.left", said=notice("t", "b"), data={},
                                           event_id=event_id)
    assert first is not None and again is None and other_kind not in {None, first}


def test_only_its_user_marks_a_notification_read_and_the_first_time_stays(db: Session) -> None:
    user = UserFactory()
    made = inbox.notify_user(db, user.id, type_="team.left", said=notice("t", "b"), data={})
    assert made is not None
    stranger = refused(db, NotFound, lambda: inbox.mark_read(db, actor_of(UserFactory()), made))
    assert stranger.message == "notification not found"
    read_at = inbox.mark_read(db, actor_of(user), made).read_at
    assert read_at is not None
    assert inbox.mark_read(db, actor_of(user), made).read_at == read_at
    unread = inbox.list_notifications(db, actor_of(user), unread=True, limit=10, cursor=None)
    assert unread.items == []


def test_a_notification_is_written_for_its_reader_when_read_in_the_zone_and_locale_they_have_then(db: Session) -> None:
    reader = UserFactory(timezone=None, locale=None)
    made = inbox.notify_user(
        db, reader.id, type_="session.reminder", said=notice("Reminder: {title}",
        "{listing} starts at {when}; then {times}. {next}"), data={},
        words={"title": "Code {review}", "listing": "\u201cCode {review}\u201d",  # what people write stays theirs
               "when": wording.at(START, "Europe/Paris"),
               "times": wording.times([START, START.replace(hour=14)], "Europe/Paris"),
               "next": wording.phrase(text("test.next_free_time", "Its next free time: {slot}."),
                                      slot=wording.at(START.replace(day=3)))})
    assert made is not None

    def read() -> inbox.Shown:
        (shown,) = inbox.shown(db, [db.get_one(Notification, made)])
        return shown

    # No zone of their own: the mentor's, named; English (GB) by default.
    first = read()
    assert first.title == "Reminder: Code {review}"
    assert first.body == ("\u201cCode {review}\u201d starts at Mon 2 Jun, 11:30 (Europe/Paris); then Mon 2 Jun, "
                          "11:30 (Europe/Paris); Mon 2 Jun, 16:30 (Europe/Paris). Its next free time: Tue 3 Jun, 09:30 "
                          "(UTC).")
    # The reader moves to Tokyo and reads American English: the same notification, their words now.
    reader.timezone, reader.locale = "Asia/Tokyo", "en-US"
    db.flush()
    # Every time names its zone, the reader's own too (changed on purpose: it used to go unnamed).
    assert read().body == ("\u201cCode {review}\u201d starts at Mon, Jun 2, 6:30\u202fPM (Asia/Tokyo); then Mon, "
                           "Jun 2, 6:30\u202fPM (Asia/Tokyo); Mon, Jun 2, 11:30\u202fPM (Asia/Tokyo). Its next free "
                           "time: Tue, Jun 3, 6:30\u202fPM (Asia/Tokyo).")


def test_a_notification_without_words_is_its_own_text_braces_and_all(db: Session) -> None:
    user = UserFactory()
    made = inbox.notify_user(db, user.id, type_="team.invited", said=notice("Invited to {x}",
                             "Ada invited you to teach \u201c{weird} title\u201d."), data={})
    assert made is not None
    (shown,) = inbox.shown(db, [db.get_one(Notification, made)])
    assert (shown.title, shown.body) == ("Invited to {x}", "Ada invited you to teach \u201c{weird} title\u201d.")
