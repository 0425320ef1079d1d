"""Calendars: each user's private iCalendar feed of their sessions, and the invite attached to booking emails.

The feed's URL carries a random token that is its only credential; only its SHA-256 is stored, so a
lookup by hash is the comparison (no timing leak about the token) and a leaked database holds no
working URL. Issuing a token replaces the previous one; revoking drops it and records when and why: the
owner, or a change that ends every credential of the account (a new password, a reset, a deletion). A feed issued
while the account's address was unconfirmed is marked so: the address's owner taking it back, or signing out
everywhere, ends it too (``workflows.accounts.users.end_made_unconfirmed``).
A deleted user's feed opens nothing, whatever its token.

Each session is one event with a stable UID (``<session id>@mentorship``) and a SEQUENCE that a
database trigger raises whenever the session's time or status changes, so calendar clients replace
their copy; cancelled sessions stay in the feed as ``STATUS:CANCELLED``.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, aliased

from infra.config import get_settings
from infra.smtp import Attachment
from models import (
    Booking,
    BookingStatus,
    CalendarFeed,
    FeedRevocation,
    Listing,
    MentorProfile,
    MentorshipSession,
    SessionStatus,
    User,
)
from workflows import wording
from workflows.actors import Actor
from workflows.calendar_owed import calendar_uid
from workflows.clock import utcnow
from workflows.errors import NotFound
from workflows.language import text
from workflows.sessions.lifecycle import meeting_url, seated_sessions

if TYPE_CHECKING:
    from icalendar import Event

PRODUCT_ID = "-//Mentorship//Sessions//EN"
# Past sessions stay in the feed this long (completed, missed, cancelled).
# An event's title, in its reader's language (what people wrote stays theirs).
WITH = text("calendar.with", "{title} with {name}")
PARTICIPANTS = text("calendar.participants", "{count} participant", plural="{count} participants")
FEED_HISTORY = timedelta(days=30)
FEED_LIMIT = 1000


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_feed_token(db: Session, actor: Actor) -> str:
    """A new feed token for the actor, replacing any earlier one (whose URL stops working). Shown once."""
    token = secrets.token_urlsafe(32)
    unconfirmed = select(User.email_verified_at.is_(None)).where(User.id == actor.user_id).scalar_subquery()
    statement = insert(CalendarFeed).values(user_id=actor.user_id, token_hash=_digest(token),
                                            made_unconfirmed=unconfirmed)
    db.execute(statement.on_conflict_do_update(
        index_elements=[CalendarFeed.user_id],
        set_={"token_hash": statement.excluded.token_hash, "created_at": utcnow(), "revoked_at": None,
              "revoked_reason": None, "made_unconfirmed": statement.excluded.made_unconfirmed},
    ))
    return token


def revoke_feed_token(db: Session, user_id: uuid.UUID, reason: FeedRevocation = FeedRevocation.REVOKED, *,
                      only_made_unconfirmed: bool = False) -> bool:
    """The user's feed URL stops working (with ``only_made_unconfirmed``, only one issued while their address was
    unconfirmed); ``True`` when there was one working until now."""
    revoked = db.execute(
        update(CalendarFeed)
        .where(CalendarFeed.user_id == user_id, CalendarFeed.token_hash.is_not(None),
               *([CalendarFeed.made_unconfirmed] if only_made_unconfirmed else []))
        .values(token_hash=None, revoked_at=utcnow(), revoked_reason=reason)
        .returning(CalendarFeed.user_id)
    ).first()
    return revoked is not None


@dataclass(frozen=True)
class FeedStatus:
    """Whether the user's feed works, and if it stopped, when and why."""

    active: bool
    created_at: datetime | None
    revoked_at: datetime | None
    revoked_reason: FeedRevocation | None


def feed_status(db: Session, actor: Actor) -> FeedStatus:
    feed = db.get(CalendarFeed, actor.user_id)
    if feed is None:
        return FeedStatus(active=False, created_at=None, revoked_at=None, revoked_reason=None)
    return FeedStatus(active=feed.token_hash is not None, created_at=feed.created_at, revoked_at=feed.revoked_at,
                      revoked_reason=feed.revoked_reason)


def feed_owner(db: Session, token: str) -> uuid.UUID:
    """The user whose feed this token opens; ``NotFound`` for any other string (a bearer token included),
    and for the feed of a deleted account."""
    user_id = db.scalar(select(CalendarFeed.user_id).join(User, User.id == CalendarFeed.user_id)
                        .where(CalendarFeed.token_hash == _digest(token), User.deleted_at.is_(None)))
    if user_id is None:
        raise NotFound("calendar not found")
    return user_id


@dataclass(frozen=True)
class CalendarEntry:
    """One session as a calendar shows it to one user."""

    session: MentorshipSession
    title: str
    with_whom: str
    location: str | None
    chain_booking_id: uuid.UUID | None = None  # a moved booking's chain: one calendar event throughout
    locale: str | None = None  # its reader's


def _entries(db: Session, user_id: uuid.UUID, since: datetime) -> list[CalendarEntry]:
    """The user's sessions ending after ``since``: as mentor, as mentee, and by a group seat."""
    mentor_user = aliased(User)
    mentee_user = aliased(User)
    rows = db.execute(
        select(MentorshipSession, Listing.title, Listing.location, MentorProfile.user_id, mentor_user.display_name,
               mentee_user.display_name, Booking.chain_booking_id)
        .join(Listing, Listing.id == MentorshipSession.listing_id)
        .outerjoin(Booking, Booking.id == MentorshipSession.booking_id)
        .join(MentorProfile, MentorProfile.id == MentorshipSession.mentor_profile_id)
        .join(mentor_user, mentor_user.id == MentorProfile.user_id)
        .outerjoin(mentee_user, mentee_user.id == MentorshipSession.mentee_user_id)
        .where(or_(MentorProfile.user_id == user_id, MentorshipSession.mentee_user_id == user_id,
                   MentorshipSession.id.in_(seated_sessions(user_id))),
               MentorshipSession.end_time >= since,
               # A moved booking's old session leaves the feed: the chain's event moves to the new one.
               or_(Booking.status.is_(None), Booking.status != BookingStatus.RESCHEDULED))
        .order_by(MentorshipSession.start_time, MentorshipSession.id)
        .limit(FEED_LIMIT)
    ).all()
    locale = db.scalar(select(User.locale).where(User.id == user_id))
    entries = []
    for session, title, location, mentor_id, mentor_name, mentee_name, chain in rows:
        if mentor_id != user_id:
            with_whom = mentor_name
        else:
            with_whom = mentee_name if mentee_name is not None else _participants(session.seats_taken, locale)
        entries.append(CalendarEntry(session, title, with_whom, location, chain, locale))
    return entries


def _event(*, uid: str, sequence: int, start: datetime, end: datetime, summary: str, cancelled: bool,
           link: str | None, stamp: datetime) -> Event:
    from icalendar import Event  # noqa: PLC0415 - icalendar (3 MB) loads where a calendar is written

    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", summary)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if link:
        event.add("location", link)
        event.add("url", link)
    return event


def _participants(count: int, locale: str | None) -> str:
    return wording.say(PARTICIPANTS, locale, count=count)


def session_event(entry: CalendarEntry, *, template: str, stamp: datetime) -> Event:
    """The VEVENT of one session: stable UID, SEQUENCE, times in UTC, the meeting link when there is one."""
    session = entry.session
    return _event(uid=calendar_uid(session.id, session.booking_id, entry.chain_booking_id),
                  sequence=session.calendar_sequence,
                  start=session.start_time, end=session.end_time,
                  summary=wording.say(WITH, entry.locale, title=entry.title, name=entry.with_whom),
                  cancelled=session.status == SessionStatus.CANCELLED,
                  link=meeting_url(session, entry.location, template), stamp=stamp)


def _calendar(events: Sequence[Event], *, method: str | None = None) -> bytes:
    from icalendar import Calendar  # noqa: PLC0415 - icalendar (3 MB) loads where a calendar is written

    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    if method:
        calendar.add("method", method)
    for event in events:
        calendar.add_component(event)
    return bytes(calendar.to_ical())


def calendar_feed(db: Session, token: str, *, now: datetime | None = None) -> bytes:
    """The feed this token opens, as ``text/calendar``; ``NotFound`` when the token opens none."""
    now = now or utcnow()
    user_id = feed_owner(db, token)
    template = get_settings().meeting_url_template
    return _calendar([session_event(entry, template=template, stamp=now)
                      for entry in _entries(db, user_id, now - FEED_HISTORY)])


def booking_invite(db: Session, user_id: uuid.UUID, booking_id: uuid.UUID) -> bytes | None:
    """A ``METHOD:REQUEST`` invite to the session of an accepted booking, as this user sees it.

    The session is created from the booking by its own handler, maybe not yet: then the invite is built
    from the booking (same UID; the meeting link comes with the feed). ``None`` for an unknown booking.
    """
    booking = db.get(Booking, booking_id)
    if booking is None:
        return None
    stamp = utcnow()
    session_id = booking.group_session_id or db.scalar(
        select(MentorshipSession.id).where(MentorshipSession.booking_id == booking.id))
    title = db.scalar(select(Listing.title).where(Listing.id == booking.listing_id))
    mentor_name = db.scalar(select(User.display_name).join(MentorProfile, MentorProfile.user_id == User.id)
                            .where(MentorProfile.id == booking.mentor_profile_id)) or ""
    entry = next((e for e in _entries(db, user_id, booking.start_time) if e.session.id == session_id), None)
    if entry is not None:
        return _invitation(db, entry, user_id, method="REQUEST", stamp=stamp)
    # Before its session exists, a moved booking's invite already follows the chain's last SEQUENCE.
    sequence = db.scalar(select(MentorshipSession.calendar_sequence + 1).where(
        MentorshipSession.booking_id == booking.rescheduled_from_booking_id)) if booking.rescheduled_from_booking_id \
        else 0
    event = _event(uid=calendar_uid(booking.id, None, booking.chain_booking_id),
                   sequence=max(sequence or 0, booking.reschedule_count),
                   start=booking.start_time, end=booking.end_time,
                   summary=wording.say(WITH, db.scalar(select(User.locale).where(User.id == user_id)), title=title,
                                       name=mentor_name), cancelled=False, link=None, stamp=stamp)
    invite_people(db, event, mentor_name=mentor_name, recipient_id=user_id)
    return _calendar([event], method="REQUEST")


def session_cancellation(db: Session, user_id: uuid.UUID, session_id: uuid.UUID) -> bytes | None:
    """A ``METHOD:CANCEL`` of a cancelled session, to this user: its invitation's event (the same UID and organiser),
    at the SEQUENCE its cancellation raised, ``STATUS:CANCELLED``, so calendar apps take it away. ``None`` when the
    user takes no part in it."""
    session = db.get(MentorshipSession, session_id)
    entry = next((e for e in _entries(db, user_id, session.start_time) if e.session.id == session_id), None) \
        if session is not None else None
    if entry is None or entry.session.status != SessionStatus.CANCELLED:
        return None
    return _invitation(db, entry, user_id, method="CANCEL", stamp=utcnow())


def _invitation(db: Session, entry: CalendarEntry, user_id: uuid.UUID, *, method: str, stamp: datetime) -> bytes:
    """The iTIP object of one session as a person's invitation shows it (``REQUEST``), or cancels it (``CANCEL``):
    the one place both are made."""
    event = session_event(entry, template=get_settings().meeting_url_template, stamp=stamp)
    mentor_name = db.scalar(select(User.display_name).join(MentorProfile, MentorProfile.user_id == User.id)
                            .where(MentorProfile.id == entry.session.mentor_profile_id)) or ""
    invite_people(db, event, mentor_name=mentor_name, recipient_id=user_id)
    return _calendar([event], method=method)


def invite_people(db: Session, event: Event, *, mentor_name: str, recipient_id: uuid.UUID) -> None:
    """Who an invite names: the service's mailbox (``SMTP_FROM``) as its organiser, under the mentor's name, and the
    one person it is mailed to as its only attendee, who has nothing to answer (``RSVP=FALSE``: the booking is
    answered in the app). Neither person's address reaches the other, and a reply goes to no one's inbox."""
    from icalendar import vCalAddress, vText  # noqa: PLC0415 - icalendar (3 MB) loads where a calendar is written

    recipient = db.get(User, recipient_id)
    organizer = vCalAddress(f"mailto:{parseaddr(get_settings().smtp_from)[1]}")
    organizer.params["CN"] = vText(mentor_name)
    event.add("organizer", organizer)
    if recipient is None:
        return
    attendee = vCalAddress(f"mailto:{recipient.email}")
    attendee.params["CN"] = vText(recipient.display_name)
    attendee.params["ROLE"] = vText("REQ-PARTICIPANT")
    attendee.params["PARTSTAT"] = vText("ACCEPTED")
    attendee.params["RSVP"] = vText("FALSE")
    event.add("attendee", attendee)


def session_file(db: Session, actor: Actor, session_id: uuid.UUID) -> bytes:
    """One session of the actor's as an ``.ics`` file to add to any calendar (``METHOD:PUBLISH``, the feed's UID and
    SEQUENCE, so a later import or the feed updates the same event); 404 when the actor takes no part in it."""
    session = db.get(MentorshipSession, session_id)
    since = session.end_time - timedelta(microseconds=1) if session is not None else None
    entry = next((e for e in _entries(db, actor.user_id, since) if e.session.id == session_id), None) \
        if since is not None else None
    if entry is None:
        raise NotFound("session not found")
    return _calendar([session_event(entry, template=get_settings().meeting_url_template, stamp=utcnow())],
                     method="PUBLISH")


def add_links(title: str, start: datetime, end: datetime, details: str, location: str | None = None
              ) -> tuple[str, str]:
    """The links that add one event to Google Calendar and to Outlook (a confirmation email's, beside its invite),
    with where it meets (its Join link) when there is one."""
    dates = f"{start.astimezone(UTC):%Y%m%dT%H%M%SZ}/{end.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    where = {"location": location} if location else {}
    google = "https://calendar.google.com/calendar/render?" + urlencode(
        {"action": "TEMPLATE", "text": title, "dates": dates, "details": details, **where})
    outlook = "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(
        {"path": "/calendar/action/compose", "rru": "addevent", "subject": title, "startdt": start.isoformat(),
         "enddt": end.isoformat(), "body": details, **where})
    return google, outlook


def invite_attachment(invite: bytes, name: str = "invite.ics") -> Attachment:
    """The invite as an email attachment calendar apps offer to add (``text/calendar; method=REQUEST``)."""
    return calendar_attachment(invite, name, "REQUEST")


def calendar_attachment(content: bytes, name: str, method: str) -> Attachment:
    """An iTIP object as an email attachment (``text/calendar; method=…``): an invitation, or its cancellation."""
    return Attachment(name, content, "text", "calendar", (("method", method),))


def mentor_entries(db: Session, session_ids: Sequence[uuid.UUID], locale: str | None = None
                   ) -> dict[uuid.UUID, CalendarEntry]:
    """Sessions as their mentor's calendar shows them (the mentee's name, or how many take part), by id, in the
    mentor's ``locale``."""
    mentee_user = aliased(User)
    rows = db.execute(
        select(MentorshipSession, Listing.title, Listing.location, mentee_user.display_name, Booking.chain_booking_id)
        .join(Listing, Listing.id == MentorshipSession.listing_id)
        .outerjoin(Booking, Booking.id == MentorshipSession.booking_id)
        .outerjoin(mentee_user, mentee_user.id == MentorshipSession.mentee_user_id)
        .where(MentorshipSession.id.in_(session_ids))).all()
    return {session.id: CalendarEntry(session, title, name if name is not None else
                                      _participants(session.seats_taken, locale), location, chain, locale)
            for session, title, location, name, chain in rows}


def written_event(entry: CalendarEntry, *, now: datetime | None = None) -> bytes:
    """One session as the object written to the mentor's own calendar: the feed's event (same UID and SEQUENCE)."""
    return _calendar([session_event(entry, template=get_settings().meeting_url_template, stamp=now or utcnow())])
