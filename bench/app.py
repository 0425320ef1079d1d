"""The API as gunicorn serves it, plus the routes the accept figure is compared with."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Flask, request
from sqlalchemy import text

from api import create_app
from api.bookings.schemas import BookingSchema
from api.database import db_session
from api.security import current_actor, require_login
from bench.worker import CREATE_SESSIONS, FLOOR_CREATE_TASK, NOOP_TASK, write_event_raw
from infra.config import get_settings
from models import OutboxEvent
from outbox.recording import Dispatch, TaskCall, live_events, pending_dispatches, take_owed
from workflows.bookings.lifecycle import accept_on_fresh_calendars
from workflows.calendars import sync as calendar_sync

FLOOR_EVENT = "booking.accepted"
FLOOR_MESSAGE_EVENT = "message.created"


def create_bench_app() -> Flask:
    """``create_app()`` with three routes under the same middleware and the same gunicorn.

    ``POST /bench/noop`` does nothing. ``POST /bench/floor/<booking_id>`` does
    the least any accept must do on this stack, with no ORM and no checks: one
    transaction that accepts the draft and writes its outbox event with one row
    per handler, then, after the commit, one Celery message per handler through
    the real publisher. An accept cannot run faster than this route. With
    ``?handlers=floor``, each message goes to the least its handler can do:
    the session's to the floor task, the others' to the no-op task. That is
    the least a whole accept→session workflow can do.

    ``POST /bench/tx-only/<booking_id>`` is the accept route's own work (its
    login, ``accept_booking``, its answer, its commit) with nothing published
    after the commit: neither the Celery messages nor the live update. The
    accept's rate over this one's is what publishing costs it.
    """
    app = create_app()

    @app.post("/bench/noop")
    def noop() -> tuple[dict[str, bool], int]:
        return {"ok": True}, 200

    @app.post("/bench/floor/<uuid:booking_id>")
    def floor(booking_id: uuid.UUID) -> tuple[dict[str, bool], int]:
        db = db_session()
        accepted = db.execute(text("UPDATE bookings SET status = 'accepted', decided_at = now(), updated_at = now() "
                                   "WHERE id = :id AND status = 'draft' RETURNING id"), {"id": booking_id}).first()
        if accepted is None:
            return {"ok": False}, 409
        event_id = write_event_raw(db, FLOOR_EVENT, "booking", booking_id,
                                   {"booking_id": str(booking_id), "status": "accepted"})
        if request.args.get("handlers") == "floor":
            pending_dispatches(db)[:] = [
                TaskCall(FLOOR_CREATE_TASK, (str(booking_id), str(event_id))) if d.handler == CREATE_SESSIONS
                else TaskCall(NOOP_TASK, ()) for d in pending_dispatches(db) if isinstance(d, Dispatch)]
        return {"ok": True}, 200

    @app.post("/bench/floor-message/<uuid:conversation_id>")
    def floor_message(conversation_id: uuid.UUID) -> tuple[dict[str, bool], int]:
        """The least a message must do: one transaction that takes the conversation's next place and writes the
        message with its outbox event (its handlers' rows), then, after the commit, its handlers' kicks and one
        live message to each of its two people, through the real publisher. No login, no checks, no ORM."""
        db = db_session()
        row = db.execute(text("UPDATE conversations SET last_seq = last_seq + 1, last_message_at = now() "
                              "WHERE id = :id RETURNING last_seq, first_user_id, second_user_id"),
                         {"id": conversation_id}).first()
        if row is None:
            return {"ok": False}, 404
        message_id = uuid.uuid4()
        db.execute(text("INSERT INTO messages (id, conversation_id, seq, sender_user_id, body) "
                        "VALUES (:id, :conversation, :seq, :sender, 'Hello')"),
                   {"id": message_id, "conversation": conversation_id, "seq": row[0], "sender": row[1]})
        payload = {"id": str(message_id), "conversation_id": str(conversation_id), "seq": row[0],
                   "sender_user_id": str(row[1]), "member_user_ids": [str(row[1]), str(row[2])]}
        event_id = write_event_raw(db, FLOOR_MESSAGE_EVENT, "message", message_id, payload)
        live_events(db).append(OutboxEvent(id=event_id, type=FLOOR_MESSAGE_EVENT, payload=payload))
        return {"ok": True}, 201

    @app.post("/bench/tx-only/<uuid:booking_id>")
    def tx_only(booking_id: uuid.UUID) -> tuple[dict[str, Any], int]:
        require_login()
        db = db_session()
        accepted, _ = accept_on_fresh_calendars(  # as the accept route reads the mentor's calendars
            db, current_actor(), booking_id, fresh_since=calendar_sync.stale_before(get_settings()))
        answer = BookingSchema().dump(accepted)
        # What the after-commit publisher would send, dropped: the commit then publishes nothing.
        take_owed(db)
        return answer, 200

    return app
