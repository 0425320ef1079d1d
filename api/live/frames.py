"""What a live frame shows: the booking, series, session or review as the REST API shows it to this viewer.

Each frame reads its resource when it is sent, in a session of its own that is closed before the
frame is yielded: a stream holds no database connection while it waits. One read per frame, so
a frame shows the resource as it is now (the ``event:`` line says what happened), exactly the
body a ``GET`` of it would return to the viewer, names and all.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from api.bookings.schemas import BookingSchema
from api.bookings.series_schemas import SeriesSchema, series_views
from api.sessions.review_schemas import ReviewSchema
from api.sessions.schemas import SessionSchema
from models import Review
from workflows import people as named
from workflows.actors import Actor
from workflows.bookings import lifecycle as bookings
from workflows.bookings import series
from workflows.errors import NotFound
from workflows.events import BOOKING_EVENTS, REVIEW_EVENTS, SERIES_EVENTS, SESSION_EVENTS, DomainEvent
from workflows.roles import Role
from workflows.sessions import lifecycle as sessions
from workflows.sessions import reviews

_BOOKING = BookingSchema()
_SESSION = SessionSchema()
_REVIEW = ReviewSchema()
_SERIES = SeriesSchema()


@dataclass(frozen=True)
class ResourceViews:
    factory: sessionmaker[Session]
    actor: Actor

    def __call__(self, event: DomainEvent, role: Role) -> dict[str, Any]:
        """The REST view of the event's resource; the event's own view of it only when the resource is
        gone or hidden from the viewer (never the case for records the service keeps)."""
        try:
            resource_id = uuid.UUID(str(event.payload.get("id")))
        except ValueError:
            return event.view_for(role)
        with self.factory() as db:
            try:
                shown = self._read(db, event.type, resource_id)
            except NotFound:
                shown = None
        return shown if shown is not None else event.view_for(role)

    def _read(self, db: Session, event_type: str, resource_id: uuid.UUID) -> dict[str, Any] | None:
        if event_type in BOOKING_EVENTS:
            booking = bookings.get_visible_booking(db, self.actor, resource_id)
            return _dumped(_BOOKING, named.name_bookings(db, [booking])[0])
        if event_type in SESSION_EVENTS:
            session = sessions.get_visible_session(db, self.actor, resource_id)
            return _dumped(_SESSION, named.name_sessions(db, self.actor, [session])[0])
        if event_type in SERIES_EVENTS:
            return _dumped(_SERIES, series_views(db, [series.get_series(db, self.actor, resource_id)])[0])
        if event_type in REVIEW_EVENTS:
            review = db.get(Review, resource_id)
            return _dumped(_REVIEW, reviews.as_posted(db, review)) if review is not None else None
        return None


def _dumped(schema: Any, value: Any) -> dict[str, Any]:
    data: dict[str, Any] = schema.dump(value)
    return data
