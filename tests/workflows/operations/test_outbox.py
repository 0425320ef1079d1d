"""Operator repairs (``workflows/operations/outbox.py``), called directly: recovering an endpoint's failed messages of a
time window; the outbox's report to operators, in one query."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import Connection, update
from sqlalchemy.orm import Session

from models import OutboxEvent, OutboxHandler, WebhookEndpoint, WebhookMessage, WebhookMessageStatus
from outbox import record_events
from tests.database import counting, refused
from tests.factories.accounts import UserFactory, actor_of
from tests.webhook_domain import db_now, make_endpoint, make_message
from workflows.errors import Conflict, NotFound
from workflows.events import EventType
from workflows.operations import outbox as operations
from workflows.webhooks import endpoints

ANALYTICS = "analytics.record"


def failed(db: Session, endpoint: WebhookEndpoint, age: timedelta) -> WebhookMessage:
    message = make_message(db, endpoint)
    db.execute(update(WebhookMessage).where(WebhookMessage.id == message.id).values(
        status=WebhookMessageStatus.FAILED, attempts=7, next_attempt_at=None, created_at=db_now(db) - age))
    return message


def test_the_failed_messages_of_the_window_are_sent_again_from_a_fresh_schedule_at_once(db: Session) -> None:
    endpoint = make_endpoint(db)
    since, until = db_now(db) - timedelta(days=2), db_now(db) - timedelta(days=1)
    inside = failed(db, endpoint, timedelta(days=2))  # at the window's start
    at_until = failed(db, endpoint, timedelta(days=1))  # the window ends before it
    before = failed(db, endpoint, timedelta(days=2, seconds=1))
    pending = make_message(db, endpoint)
    elsewhere = failed(db, make_endpoint(db), timedelta(days=2))
    endpoint.backoff_until = db_now(db) + timedelta(hours=5)
    db.flush()
    assert operations.recover_failed_messages(db, endpoint.id, since=since, until=until) == 1
    db.expire_all()
    recovered = db.get_one(WebhookMessage, inside.id)
    assert (recovered.status, recovered.attempts, recovered.next_attempt_at) == (
        WebhookMessageStatus.PENDING, 0, db_now(db))
    assert {db.get_one(WebhookMessage, m.id).status for m in (at_until, before, elsewhere)} == {
        WebhookMessageStatus.FAILED}
    assert db.get_one(WebhookMessage, pending.id).status == WebhookMessageStatus.PENDING
    assert db.get_one(WebhookEndpoint, endpoint.id).backoff_until is None
    assert operations.recover_failed_messages(db, endpoint.id, since=since - timedelta(days=1)) == 2


def test_a_disabled_or_unknown_endpoint_recovers_nothing(db: Session) -> None:
    owner = UserFactory()
    endpoint = make_endpoint(db, owner)
    message = failed(db, endpoint, timedelta(hours=1))
    endpoints.update_endpoint(db, actor_of(owner), endpoint.id, {"enabled": False})
    disabled = refused(db, Conflict, lambda: operations.recover_failed_messages(
        db, endpoint.id, since=db_now(db) - timedelta(days=1)))
    assert disabled.message == "this endpoint is disabled; enable it before recovering its messages"
    unknown = refused(db, NotFound, lambda: operations.recover_failed_messages(
        db, uuid.uuid4(), since=db_now(db) - timedelta(days=1)))
    assert unknown.message == "webhook endpoint not found"
    db.expire_all()
    assert db.get_one(WebhookMessage, message.id).status == WebhookMessageStatus.FAILED


def test_the_outbox_report_is_one_query_whatever_the_number_of_handlers_behind(
        db: Session, connection: Connection) -> None:
    """Per handler with work not done: how much, since when, how many failed, the latest event's error."""
    events = record_events(db, EventType.SESSION_COMPLETED, [
        (uuid.uuid4(), {"mentor_profile_id": str(uuid.uuid4()), "start_time": "2031-01-01T09:00:00+00:00",
                        "end_time": "2031-01-01T10:00:00+00:00"}) for _ in range(3)], actor="system")
    ids = [event.id for event in events]
    db.execute(update(OutboxHandler).where(OutboxHandler.event_id == ids[0], OutboxHandler.handler == ANALYTICS)
               .values(last_error="ValueError: first"))
    db.execute(update(OutboxHandler).where(OutboxHandler.event_id == ids[2], OutboxHandler.handler == ANALYTICS)
               .values(last_error="ValueError: latest"))
    db.execute(update(OutboxEvent).where(OutboxEvent.id == ids[2])
               .values(created_at=OutboxEvent.created_at + timedelta(seconds=1)))
    with counting(connection) as statements:
        report = operations.outbox_report(db)
        assert statements() == 1
    handlers = {backlog.handler: backlog for backlog in report.handlers}
    # session.completed's five handlers: reviews, notifications, the mentor's and the programme's analytics, webhooks.
    assert len(handlers) == 5 and report.pending == 15
    assert (handlers[ANALYTICS].pending, handlers[ANALYTICS].failing, handlers[ANALYTICS].last_error) == (
        3, 2, "ValueError: latest")
    assert (handlers["reviews.unlock"].failing, handlers["reviews.unlock"].last_error) == (0, None)
