"""Signed links in email that cancel one meeting, or move it, without signing in ("Cancel it", "Move it" in a
confirmation or a reminder).

A link is single-purpose (its action is in the token: cancel or move), its reader's (bound to their token version: a
password change or a sign-out everywhere ends it) and expires at the meeting's start. Opening its page changes
nothing: the page reads what the link does and what it costs (:func:`show`), and only its button acts (:func:`act`),
as the reader would from the app, under the same cancellation policy. A move link's page offers the listing's next
free times (those the reader is free at too); its button proposes the one chosen to the other participant, as the
app's "Propose another time" does (free for both; the meeting stays until they accept). Tokens are JWTs signed with
a key of their own, derived from the service's secret.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import jwt
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import Booking, BookingStatus, CreditStatus, Listing, MentorProfile, MentorshipSession, SessionStatus, User
from workflows.actors import Actor
from workflows.bookings import reschedules
from workflows.bookings.lifecycle import cancels_late, late_fee
from workflows.clock import utcnow
from workflows.errors import Conflict, InvalidInput
from workflows.events import EventType
from workflows.roles import Role
from workflows.scheduling import slots, viewer
from workflows.sessions import lifecycle as sessions

AUDIENCE = "booking-link"
CANCEL, MOVE = "cancel", "move"
REASON = "cancelled from the link in an email"
# A move link's page offers this many of the next free times, looked for this far ahead.
FREE_TIMES_SHOWN, FREE_TIMES_WITHIN = 12, timedelta(days=14)


def _key() -> str:
    return hashlib.sha256(b"booking-link:" + get_settings().jwt_secret_key.encode()).hexdigest()


def link_token(user: User, booking: Booking, action: str = CANCEL) -> str:
    """The link's token: cancel (or move) ``booking``'s meeting, as ``user``, until it starts."""
    claims = {"aud": AUDIENCE, "act": action, "sub": str(user.id), "ver": user.token_version,
              "bkg": str(booking.id), "exp": int(booking.start_time.timestamp())}
    return jwt.encode(claims, _key(), algorithm="HS256")


def cancel_url(user: User, booking: Booking) -> str:
    return f"{get_settings().public_url}/#/booking-link?token={link_token(user, booking)}"


def move_url(user: User, booking: Booking) -> str:
    return f"{get_settings().public_url}/#/booking-link?token={link_token(user, booking, MOVE)}"


@dataclass(frozen=True)
class LinkView:
    """What a link does, to which meeting, and what it costs the reader now."""

    action: str
    booking_id: uuid.UUID
    session_id: uuid.UUID | None
    listing_title: str
    start_time: datetime
    end_time: datetime
    with_whom: str
    role: str
    late: bool
    fee_cents: int
    currency: str
    credit_forfeited: bool
    done: bool  # already cancelled: the button has nothing left to do
    free_times: list[slots.Slot] = field(default_factory=list)  # a move link's choice
    proposed_start: datetime | None = None  # the time a move link proposed


def _read(db: Session, token: str) -> tuple[User, Booking, str]:
    try:
        claims = jwt.decode(token, _key(), algorithms=["HS256"], audience=AUDIENCE,
                            options={"require": ["exp", "sub", "bkg", "act", "ver"]})
    except jwt.ExpiredSignatureError as exc:
        raise InvalidInput("this link has expired: the meeting has started. Open it in the app instead") from exc
    except jwt.InvalidTokenError as exc:
        raise InvalidInput("this link is not valid: open the meeting in the app instead") from exc
    user = db.get(User, uuid.UUID(claims["sub"]))
    booking = db.get(Booking, uuid.UUID(claims["bkg"]))
    if claims["act"] not in {CANCEL, MOVE} or user is None or booking is None or claims["ver"] != user.token_version:
        raise InvalidInput("this link is not valid any more: open the meeting in the app instead")
    return user, booking, claims["act"]


def _actor(db: Session, user: User) -> Actor:
    profile_id = db.scalar(select(MentorProfile.id).where(MentorProfile.user_id == user.id))
    return Actor(user.id, is_admin=user.is_admin, mentor_profile_id=profile_id)


def show(db: Session, token: str, *, now: datetime | None = None) -> LinkView:
    """What the link does and costs now (422 for a link unknown, changed, expired or no longer its reader's); a move
    link's, with the next free times to choose from."""
    now = now or utcnow()
    user, booking, action = _read(db, token)
    view = _view(db, user, booking, now, action)
    if action != MOVE or view.done:
        return view
    listing = db.get_one(Listing, booking.listing_id)
    free = slots.free_slots(db, listing.id, start=now, end=now + FREE_TIMES_WITHIN, now=now,
                            mentor_profile_id=booking.mentor_profile_id)  # a team listing's: its booking's mentor
    times = [slots.Slot(s.start_time, s.end_time) for s in viewer.view_slots(db, listing, free, _actor(db, user))
             if not s.viewer_busy][:FREE_TIMES_SHOWN]
    return replace(view, free_times=times)


def act(db: Session, token: str, *, start_time: datetime | None = None, now: datetime | None = None) -> LinkView:
    """Do what the link says: cancel the meeting as its reader, under the policy (a mentee's late cancellation pays
    its fee or bundle credit, as in the app); or propose ``start_time`` to the other participant (free for both).
    409 when it is cancelled already or has begun; 422 for a move without a time."""
    now = now or utcnow()
    user, booking, action = _read(db, token)
    view = _view(db, user, booking, now, action)
    if view.done or view.session_id is None:
        raise Conflict("this meeting is not scheduled any more: nothing to {action}",
                       words={"action": action}, reason="not_scheduled")
    if action == MOVE:
        if start_time is None:
            raise InvalidInput("choose the time to propose (`start_time`)")
        reschedules.propose(db, _actor(db, user), booking.id, [start_time], now=now)
        return replace(view, proposed_start=start_time)
    sessions.cancel_session(db, _actor(db, user), view.session_id, reason=REASON, now=now)
    db.refresh(booking)
    return _view(db, user, booking, now, action)


def _view(db: Session, user: User, booking: Booking, now: datetime, action: str) -> LinkView:
    session = db.scalar(select(MentorshipSession).where(
        (MentorshipSession.id == booking.group_session_id) if booking.group_session_id is not None
        else (MentorshipSession.booking_id == booking.id)))
    title = db.scalar(select(Listing.title).where(Listing.id == booking.listing_id)) or ""
    mentor_user, mentor_name = db.execute(  # the booking's mentor: a team listing's member
        select(User.id, User.display_name).join(MentorProfile, MentorProfile.user_id == User.id)
        .where(MentorProfile.id == booking.mentor_profile_id)).one()
    mentee = user.id == booking.mentee_user_id
    if not mentee and user.id != mentor_user:
        raise InvalidInput("this link is not valid any more: open the meeting in the app instead")
    other = mentor_name if mentee else db.scalar(select(User.display_name).where(User.id == booking.mentee_user_id))
    late = cancels_late(Role.MENTEE if mentee else Role.MENTOR, booking.start_time, now)
    credit = booking.credit_status == CreditStatus.HELD
    fee = late_fee(booking) if late and not credit else 0  # as the cancellation will record it
    done = booking.status != BookingStatus.ACCEPTED or session is None or session.status != SessionStatus.SCHEDULED
    return LinkView(action, booking.id, session.id if session else None, title, booking.start_time, booking.end_time,
                    other or "", "mentee" if mentee else "mentor", late, fee, booking.currency, late and credit, done)


def booking_for(db: Session, user_id: uuid.UUID, event_type: str, resource: dict[str, object]) -> Booking | None:
    """The accepted booking a notification's email may offer to cancel: a booking accepted or moved, a seat given
    from a waitlist, a session's reminder (its booking, or the reader's seat in a group session); none for anything
    else, or for a group session's mentor (their session is cancelled from the app)."""
    if event_type in {EventType.BOOKING_ACCEPTED, EventType.BOOKING_RESCHEDULED}:
        booking_id = resource.get("id")
    elif event_type == EventType.WAITLIST_PROMOTED:
        booking_id = resource.get("booking_id")
    elif event_type == EventType.SESSION_REMINDER:
        if resource.get("booking_id"):
            booking_id = resource.get("booking_id")
        else:
            booking_id = db.scalar(select(Booking.id).where(
                Booking.group_session_id == uuid.UUID(str(resource.get("id"))), Booking.mentee_user_id == user_id,
                Booking.status == BookingStatus.ACCEPTED))
    else:
        return None
    booking = db.get(Booking, uuid.UUID(str(booking_id))) if booking_id else None
    return booking if booking is not None and booking.status == BookingStatus.ACCEPTED else None
