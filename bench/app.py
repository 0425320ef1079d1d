"""The API as gunicorn serves it, plus the routes the accept figure is compared with."""

from __future__ import annotations

import uuid

from flask import Flask
from sqlalchemy import text

from api import create_app
from api.database import db_session
from bench.worker import write_event_raw

FLOOR_EVENT = "booking.accepted"


def create_bench_app() -> Flask:
    """``create_app()`` with two routes under the same middleware and the same gunicorn.

    ``POST /bench/noop`` does nothing. ``POST /bench/floor/<booking_id>`` does
    the least any accept must do on this stack, with no ORM and no checks: one
    transaction that accepts the draft and writes its outbox event with one row
    per handler, then, after the commit, one Celery message per handler through
    the real publisher. An accept cannot run faster than this route.
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
        write_event_raw(db, FLOOR_EVENT, "booking", booking_id, {"booking_id": str(booking_id), "status": "accepted"})
        return {"ok": True}, 200

    return app
