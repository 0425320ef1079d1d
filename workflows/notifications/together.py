"""Messages that tell of many sessions at once, so that one move tells each person once.

A pairing paused or ended, a participant who leaves or is taken off: the move's own message lists the sessions it
cancelled (``cancelled_session_ids`` in its event; their own ``session.cancelled`` events told no one:
``workflows.inbox.told_together``), and its email carries each one's calendar cancellation. A pairing's series
accepted: the pairing's ``pairing.activated`` tells the mentee, listing its times with each one's invitation; the
series' own events (asked for, accepted, declined) are told by the pairing's (proposed, activated, ended).

One calendar object per session (an iTIP object carries the events of one UID only), each in a message of its own
after the one that lists them when there are several: calendar apps act on the one calendar object of a message's
first part (``workflows.notifications.mail``); a series' invitations are sent the same way.

A publication of the matcher's drafts proposes its pairings one by one: a pairing's proposal is emailed once the
publication is done (no draft left being proposed, every proposal told), with the reader's other proposals of that
programme still owed, so a mentor given several mentees reads one email (the app keeps a notification per pairing).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from infra.smtp import Attachment
from models import (
    Booking,
    BookingStatus,
    DraftStatus,
    EmailStatus,
    HandlerStatus,
    MatchDraft,
    MentorProfile,
    MentorshipSession,
    Notification,
    OutboxEvent,
    OutboxHandler,
    Pairing,
    User,
)
from workflows import wording
from workflows.calendars.feeds import booking_invite, calendar_attachment, session_cancellation
from workflows.clock import utcnow
from workflows.events import EventType
from workflows.inbox import NOTIFY_HANDLER
from workflows.language import text
from workflows.roles import Role

# A series' events that its pairing's tell instead (the series is a pairing's from its request on).
TOLD_BY_PAIRING = frozenset({EventType.BOOKING_SERIES_REQUESTED, EventType.BOOKING_SERIES_ACCEPTED,
                             EventType.BOOKING_SERIES_DECLINED})
# The events whose message lists the sessions they cancelled, with their calendar cancellations.
CANCELLING = frozenset({EventType.PAIRING_PAUSED, EventType.PAIRING_ENDED, EventType.ENROLMENT_LEFT,
                        EventType.ENROLMENT_REMOVED})
CANCELLED_KEY = "cancelled_session_ids"
# How long a publication's proposal waits for the rest of the publication before it is emailed alone.
PUBLICATION_WAIT = timedelta(minutes=10)
# A message's list of sessions: its heading, then one line each.
CONFIRMED = text("sessions.confirmed", "\n\nIts session is confirmed (its invitation is attached):{sessions}",
                 plural="\n\nIts {count} sessions are confirmed (an invitation for each follows on its own):{sessions}")
CANCELLED = text("sessions.cancelled",
                 "\n\nThe coming session is cancelled (its calendar cancellation is attached):{sessions}",
                 plural="\n\nThe {count} coming sessions are cancelled (a calendar cancellation for each follows on "
                        "its own):{sessions}")
ONE_SESSION = text("sessions.one", "{at} with {who}")
PAIRING_LINKED = frozenset({"pairing", "goal", "plan"})


def told_by_pairing(db: Session, outbox_events: Sequence[OutboxEvent]) -> set[uuid.UUID]:
    """The ids of the series' events among these that a pairing's event tells (one query)."""
    series = {event.aggregate_id: event.id for event in outbox_events if event.type in TOLD_BY_PAIRING}
    if not series:
        return set()
    paired = db.scalars(select(Pairing.series_id).where(Pairing.series_id.in_(series)))
    return {series[series_id] for series_id in paired if series_id is not None}


def pairing_link(payload: Mapping[str, Any]) -> str:
    """A pairing's place in the web app: its programme's page, the pairing open."""
    pairing = payload["pairing_id"] if "pairing_id" in payload else payload["id"]
    return f"#/programmes/{payload['programme_id']}?pairing={pairing}"


def _meetings(db: Session, event_type: str, payload: Mapping[str, Any]) -> list[tuple[datetime, uuid.UUID, str, str]]:
    """The sessions a message lists: (start, the mentor's user, the mentor's name, the mentee's name)."""
    mentor, mentee = aliased(User), aliased(User)
    if event_type == EventType.PAIRING_ACTIVATED and payload.get("series_id"):
        query = select(Booking.start_time, mentor.id, mentor.display_name, mentee.display_name).where(
            Booking.series_id == uuid.UUID(payload["series_id"]), Booking.status == BookingStatus.ACCEPTED
        ).join(MentorProfile, MentorProfile.id == Booking.mentor_profile_id).join(
            mentee, mentee.id == Booking.mentee_user_id).order_by(Booking.start_time)
    elif payload.get(CANCELLED_KEY):
        query = select(MentorshipSession.start_time, mentor.id, mentor.display_name, mentee.display_name).where(
            MentorshipSession.id.in_([uuid.UUID(one) for one in payload[CANCELLED_KEY]])
        ).join(MentorProfile, MentorProfile.id == MentorshipSession.mentor_profile_id).join(
            mentee, mentee.id == MentorshipSession.mentee_user_id).order_by(MentorshipSession.start_time)
    else:
        return []
    rows = db.execute(query.join(mentor, mentor.id == MentorProfile.user_id)).all()
    return [(start, mentor_id, mentor_name, mentee_name) for start, mentor_id, mentor_name, mentee_name in rows]


def sessions_word(db: Session, event_type: str, payload: Mapping[str, Any], role: Role, zone: str | None
                  ) -> dict[str, Any] | str:
    """The sessions a message lists, one a line, each with the reader's other person: those the move cancelled,
    or the times of a pairing's series accepted. Nothing when there are none."""
    meetings = _meetings(db, event_type, payload)
    if not meetings:
        return ""
    head = CONFIRMED if event_type == EventType.PAIRING_ACTIVATED else CANCELLED
    reader_is_mentor = role == Role.MENTOR or (role == Role.PARTICIPANT and payload.get("role") == Role.MENTOR)
    lines = [wording.phrase(ONE_SESSION, at=wording.at(start, zone),
                            who=mentee_name if reader_is_mentor else mentor_name)
             for start, _mentor_id, mentor_name, mentee_name in meetings]
    return wording.phrase(head, count=len(meetings), sessions=wording.each(lines))


def attachments(db: Session, user_id: uuid.UUID, event_type: str, resource: Mapping[str, Any]
                ) -> list[Attachment] | None:
    """The calendar files of a message that tells of many sessions (``None`` for any other message): each cancelled
    session's ``METHOD:CANCEL``, or the invitation of each time of a pairing's series accepted (to its mentee)."""
    if event_type in CANCELLING:
        files = [session_cancellation(db, user_id, uuid.UUID(one)) for one in resource.get(CANCELLED_KEY, [])]
        method = "CANCEL"
    elif event_type == EventType.PAIRING_ACTIVATED:
        if resource.get("mentee_user_id") != str(user_id) or not resource.get("series_id"):
            return []
        files = [booking_invite(db, user_id, booking_id) for booking_id in db.scalars(
            select(Booking.id).where(Booking.series_id == uuid.UUID(resource["series_id"]),
                                     Booking.status == BookingStatus.ACCEPTED).order_by(Booking.start_time))]
        method = "REQUEST"
    else:
        return None
    found = [one for one in files if one is not None]
    kind = "cancel" if method == "CANCEL" else "invite"
    return [calendar_attachment(one, f"{kind}-{n}.ics" if len(found) > 1 else f"{kind}.ics", method)
            for n, one in enumerate(found, 1)]


def _proposed_in(notification: Notification) -> str | None:
    """The programme whose pairing a notification proposes (``None`` for any other notification)."""
    if notification.type != EventType.PAIRING_PROPOSED:
        return None
    programme_id = notification.data.get("resource", {}).get("programme_id")
    return str(programme_id) if programme_id else None


def publication_under_way(db: Session, notification: Notification) -> bool:
    """Whether a pairing's proposal should wait for the rest of a publication (not past ``PUBLICATION_WAIT``): drafts
    of its programme are still being proposed, or proposals made are not told yet."""
    programme_id = _proposed_in(notification)
    if programme_id is None or notification.created_at <= utcnow() - PUBLICATION_WAIT:
        return False
    proposing = exists().where(MatchDraft.programme_id == uuid.UUID(programme_id),
                               MatchDraft.status == DraftStatus.PUBLISHING)
    untold = exists().where(OutboxHandler.event_id == OutboxEvent.id, OutboxHandler.handler == NOTIFY_HANDLER,
                            OutboxHandler.status == HandlerStatus.PENDING,
                            OutboxEvent.type == EventType.PAIRING_PROPOSED.value,
                            OutboxEvent.payload["programme_id"].astext == programme_id)
    return bool(db.scalar(select(proposing | untold)))


def proposed_with(db: Session, notification: Notification) -> list[Notification]:
    """The reader's other proposals of the same programme whose email is still owed (locked; those another worker
    holds are left to it): one email tells them with this one."""
    programme_id = _proposed_in(notification)
    if programme_id is None:
        return []
    return list(db.scalars(select(Notification).where(
        Notification.user_id == notification.user_id, Notification.id != notification.id,
        Notification.type == EventType.PAIRING_PROPOSED.value, Notification.email_status == EmailStatus.PENDING,
        Notification.data["resource"]["programme_id"].astext == programme_id)
        .order_by(Notification.created_at, Notification.id).with_for_update(skip_locked=True)))
