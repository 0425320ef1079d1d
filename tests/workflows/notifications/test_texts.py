"""The rows of what each event tells whom (``workflows/notifications/texts.py``): every template names only words
the handler gives, and the handler is declared for every event someone is told of."""

from __future__ import annotations

import string
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from models import OutboxEvent
from workflows.events import EventType
from workflows.language import Text
from workflows.notifications import messages, texts
from workflows.roles import Role

START = datetime(2031, 6, 2, 9, 30, tzinfo=UTC)


def every_message() -> Iterator[texts.Message]:
    yield from (message for told in texts.MESSAGES.values() for message in told.values())
    yield from (message for told in texts.SETTLED.values() for message in told.values())
    yield from (message for message, _told in texts.PROPOSALS.values())
    yield from (message for told in texts.ABSENT.values() for message in told.values())
    yield from (texts.DISPUTED, texts.SERIES_WITHDRAWN, texts.SERIES_CANCELLED, texts.SEAT_RELEASED)
    yield from texts.SEAT_TAKEN.values()


def named(said: Text) -> set[str]:
    return {name for template in (said.english, said.plural or "")
            for _text, name, _spec, _conversion in string.Formatter().parse(template) if name}


def test_every_template_names_only_words_the_handler_gives(db: Session) -> None:
    asked = set().union(*(named(m.title) | named(m.body) for m in every_message())) - {"next"}
    everything = " ".join(f"{{{name}}}" for name in sorted(asked))
    event = OutboxEvent(id=uuid.uuid4(), type=EventType.BOOKING_ACCEPTED, actor=Role.MENTOR.value, payload={
        "listing_id": str(uuid.uuid4()), "start_time": START.isoformat(), "reason": "r", "rating": 5,
        "start_times": [START.isoformat()], "previous_start_time": START.isoformat(), "message": "m",
        "offer_expires_at": START.isoformat(),
        # A series' own: how often, how many times, and from when it was cancelled.
        "every_weeks": 1, "occurrences": [], "accepted_count": 2, "status": "cancelled", "skipped_count": 1,
        "cancelled_from": START.isoformat()})
    context = messages.Context({}, {}, {}, {})
    given = messages._words(db, context, event, mentor=None, role=Role.MENTEE, template=everything)
    assert set(given) == asked
    # A template's own words only: a message keeps no word it does not say.
    assert set(messages._words(db, context, event, mentor=None, role=Role.MENTEE, template="{when}")) == {"when"}


def test_the_handler_is_declared_for_every_event_someone_is_told_of() -> None:
    told = {*texts.MESSAGES, *texts.SETTLED, *texts.PROPOSALS, *texts.BY_PAYLOAD}
    assert set(texts.NOTIFIED) == told


def test_each_link_leads_where_its_row_says() -> None:
    listing, session, seat_session = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    declined = {"listing_id": str(listing)}
    seat = {"listing_id": str(listing), "group_session_id": str(seat_session)}
    link = messages.link_for
    assert link(texts.Link.ANOTHER_TIME, EventType.BOOKING_DECLINED, declined, Role.MENTEE) == f"#/listings/{listing}"
    assert link(texts.Link.ANOTHER_TIME, EventType.BOOKING_DECLINED, seat, Role.MENTEE) == f"#/sessions/{seat_session}"
    assert link(texts.Link.LISTING, EventType.WAITLIST_OFFERED, {**seat, "session_id": str(session)},
                Role.MENTEE) == f"#/listings/{listing}"
    assert link(texts.Link.SUBJECT, EventType.SESSION_COMPLETED, {"id": str(session)}, Role.MENTOR) \
        == f"#/sessions/{session}"
    assert link(texts.Link.SUBJECT, EventType.BOOKING_REQUESTED, declined, Role.MENTOR) == "#/requests"
    assert link(texts.Link.SUBJECT, EventType.BOOKING_ACCEPTED, declined, Role.MENTEE) == "#/bookings"


def test_a_seat_the_mentee_took_themself_answers_no_request_and_tells_the_mentor_too() -> None:
    """Joining a group session is nobody's answer to a request: the mentee reads that the seat is booked, the mentor
    who joined; a request the mentor accepted still reads as accepted."""
    seat = {"listing_id": str(uuid.uuid4()), "group_session_id": str(uuid.uuid4())}
    joined = OutboxEvent(id=uuid.uuid4(), type=EventType.BOOKING_ACCEPTED, actor=f"user:{uuid.uuid4()}", payload=seat)
    told = messages.messages_for(joined)
    assert (told[Role.MENTEE].title.english, told[Role.MENTOR].title.english) == ("You have a seat",
                                                                                  "A seat was taken")
    assert "accepted" not in told[Role.MENTEE].body.english
    accepted = OutboxEvent(id=uuid.uuid4(), type=EventType.BOOKING_ACCEPTED, actor=Role.MENTOR.value,
                           payload={"listing_id": seat["listing_id"]})
    assert messages.messages_for(accepted)[Role.MENTEE].title.english == "Booking accepted"
