"""Who does what once an event is recorded: each handler, the event types it handles, and its work.

A handler is a function of a session and a batch of its events, declared with
``@REGISTRY.handler("<queue>.<verb>", *event types)``: recording an event of those types writes the
handler's row in the same transaction, and the workers run it as the Celery task of that name on that
queue (``workers/handlers.py``), once per event: its work runs in the transaction that marks the rows
done, so a batch that dies before its commit leaves nothing behind and is done again, whole. It must
do all its writes through the session it is given, and send nothing outside the database itself
(``enqueue_after_commit`` sends after the commit). An event's kicks are sent in the order its handlers
are declared here: the one a user waits for comes first.

The API, the workers and beat import this module at start (``workflows.handlers.declare()``), so that
every process records the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from models import OutboxEvent
from outbox import REGISTRY
from workflows.calendars import writes as calendar_writes
from workflows.conversations import announcements
from workflows.events import RECORDED, EventType
from workflows.inbox import NOTIFY_HANDLER
from workflows.notifications import message_mail, messages, texts
from workflows.programmes import following
from workflows.reports import tallies
from workflows.sessions import analytics, reviews
from workflows.sessions import lifecycle as sessions
from workflows.webhooks import fanout

SESSION_OUTCOMES = (EventType.SESSION_COMPLETED, EventType.SESSION_CANCELLED, EventType.SESSION_MISSED,
                    EventType.SESSION_NO_SHOW)
# Every recorded event goes to the webhook endpoints that subscribe to it (the test is sent by hand).
SENT_TO_WEBHOOKS = RECORDED


@REGISTRY.handler(sessions.CREATE_HANDLER, EventType.BOOKING_ACCEPTED, EventType.BOOKING_RESCHEDULED,
                  by_hand=sessions.create_session_from_booking)
def create_sessions(db: Session, events: Sequence[OutboxEvent]) -> None:
    """Each accepted booking's session, a moved booking's new one too, exactly once (an operator can run it for one
    booking by hand)."""
    sessions.create_sessions_for_events(db, events)


@REGISTRY.handler(following.FOLLOW_HANDLER, EventType.BOOKING_SERIES_ACCEPTED, EventType.BOOKING_SERIES_DECLINED,
                  EventType.BOOKING_SERIES_CANCELLED)
def follow_pairings(db: Session, events: Sequence[OutboxEvent]) -> None:
    """A programme's pairing follows the answer to its series: active once accepted, ended if declined."""
    following.follow_series(db, events)


@REGISTRY.handler("reviews.unlock", EventType.SESSION_COMPLETED)
def unlock_reviews(db: Session, events: Sequence[OutboxEvent]) -> None:
    """A completed session's mentees may review it."""
    reviews.handle_events(db, events)


@REGISTRY.handler(NOTIFY_HANDLER, *texts.NOTIFIED)
def notify(db: Session, events: Sequence[OutboxEvent]) -> None:
    """In-app notifications (emailed when SMTP is set) for the people each event concerns."""
    messages.handle_events(db, events)


@REGISTRY.handler("notifications.owe_message_emails", EventType.MESSAGE_CREATED)
def owe_message_emails(db: Session, events: Sequence[OutboxEvent]) -> None:
    """A message's other people are emailed it if they have not read it a while later
    (``notifications.message_mail``)."""
    message_mail.owe(db, events)


@REGISTRY.handler("notifications.deliver_announcements", EventType.ANNOUNCEMENT_POSTED)
def deliver_announcements(db: Session, events: Sequence[OutboxEvent]) -> None:
    """An announcement's recipients told once each, in batches: inbox, email by their choice, a live frame each."""
    announcements.deliver(db, events)


@REGISTRY.handler("analytics.record", *SESSION_OUTCOMES)
def record_outcomes(db: Session, events: Sequence[OutboxEvent]) -> None:
    """Session outcomes counted in the mentors' statistics."""
    analytics.handle_events(db, events)


@REGISTRY.handler(tallies.HANDLER, *tallies.HANDLED, by_hand=tallies.rebuild)
def keep_programme_reports(db: Session, events: Sequence[OutboxEvent]) -> None:
    """The programme dashboards' summaries: the pairings and weeks the events touched, computed again (an operator
    rebuilds one programme's by hand, with its id)."""
    tallies.handle_events(db, events)


@REGISTRY.handler(calendar_writes.HANDLER, EventType.SESSION_SCHEDULED, EventType.SESSION_CANCELLED,
                  EventType.SESSION_UPDATED)
def write_to_calendars(db: Session, events: Sequence[OutboxEvent]) -> None:
    """Each changed session owed to its mentor's own calendar, written after the commit (``calendars.write``)."""
    calendar_writes.handle_events(db, events)


@REGISTRY.handler("webhooks.fan_out", *SENT_TO_WEBHOOKS)
def fan_out_webhooks(db: Session, events: Sequence[OutboxEvent]) -> None:
    """One message per subscribed endpoint allowed to see the event; deliveries sent after commit."""
    fanout.handle_events(db, events)


def declare() -> None:
    """Nothing to do: importing this module declared the handlers. Named so that start-up code says why it
    imports it."""
