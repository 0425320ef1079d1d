"""What is owed to a mentor's own calendar, recorded in the transaction of a change: a row per event there
(``calendar_writes``), its write sent after the commit (``workflows.calendars.writes`` sends it and says the rest).

Apart from the feeds and the writes, so that the places that change a session without an event of its own (a seat
taken or given up changes a group session's count, which its title shows) can owe its write without importing them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, and_, case, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models import Booking, CalendarSource, CalendarWrite, MentorshipSession
from outbox import enqueue_after_commit
from workflows.clock import utcnow

UID_DOMAIN = "mentorship"
WRITE_TASK = "calendars.write"  # the write itself, after the commit
_WRITES = cast(Table, CalendarWrite.__table__)


def calendar_uid(session_id: uuid.UUID, booking_id: uuid.UUID | None, chain_booking_id: uuid.UUID | None = None
                 ) -> str:
    """Stable per session: an individual session's booking id (known before the session exists, so the
    booking email's invite and the feed agree), the first booking's of a moved booking's chain (so a move
    moves the event), a group session's own id."""
    return f"{chain_booking_id or booking_id or session_id}@{UID_DOMAIN}"


def owe(db: Session, session_ids: Sequence[uuid.UUID]) -> int:
    """The sessions' events owed to their mentors' target calendars (a row per event, the newest state kept; one
    being taken away from there is written again instead); the writes sent after the commit. How many."""
    rows = db.execute(
        select(MentorshipSession.id, MentorshipSession.booking_id, MentorshipSession.calendar_sequence,
               Booking.chain_booking_id, CalendarSource.id)
        .join(CalendarSource, and_(CalendarSource.mentor_profile_id == MentorshipSession.mentor_profile_id,
                                   CalendarSource.target))
        .outerjoin(Booking, Booking.id == MentorshipSession.booking_id)
        .where(MentorshipSession.id.in_(session_ids)).order_by(MentorshipSession.id)).all()
    count = 0
    for session_id, booking_id, sequence, chain, source_id in rows:
        statement = insert(_WRITES).values(
            id=uuid.uuid4(), source_id=source_id, uid=calendar_uid(session_id, booking_id, chain),
            session_id=session_id, sequence=sequence)
        written = db.execute(statement.on_conflict_do_update(
            index_elements=[_WRITES.c.source_id, _WRITES.c.uid],
            set_={"session_id": statement.excluded.session_id, "sequence": statement.excluded.sequence,
                  "next_attempt_at": utcnow(), "attempts": 0, "retire": False,
                  # Taken away and written again: the event is written whole, whatever was there.
                  "written_sequence": case((_WRITES.c.retire, None), else_=_WRITES.c.written_sequence)},
            where=or_(_WRITES.c.sequence <= statement.excluded.sequence, _WRITES.c.retire),
        ).returning(_WRITES.c.id)).scalar_one_or_none()
        if written is not None:
            enqueue_after_commit(db, WRITE_TASK, str(written))
            count += 1
    return count
