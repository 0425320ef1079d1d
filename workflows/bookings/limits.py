"""How many booking requests a mentee may keep open, so that nobody floods a mentor or mails them at will.

A mentee holds at most ``MAX_PENDING_REQUESTS_PER_MENTOR`` pending requests to one mentor (on a team
listing, the member the request goes to), ``MAX_PENDING_REQUESTS`` in all (a series pending is one request),
and never two for the same listing and start. One mentee's requests are decided one after the other (a lock on
their user row, taken in the request's transaction), so the counts hold exactly however many arrive at once; the
unique index on a mentee's pending (listing, start) is the database's own guard behind the first rule.

Booked instantly, nobody approves a time: a mentee holds at most the listing's cap of upcoming instant bookings with
one mentor (``max_instant_bookings_per_mentor``, else the service's, 26 by default; each time of a series counted),
and an account whose address is unconfirmed one, so that a visitor's first booking from a public link goes through
and nobody takes a mentor's every hour with throwaway accounts. Counted under the same turn.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import Session

from infra.config import get_settings
from infra.sql import statuses
from models import Booking, BookingStatus, ConnectionStatus, User
from workflows.clock import utcnow
from workflows.errors import Conflict, refusal
from workflows.scheduling.rules import Rule, refused

# FOR NO KEY UPDATE: it conflicts with itself, not with the key-share locks of rows referencing the user.
_LOCK_MENTEE = select(User.id).where(User.id == bindparam("user_id")).with_for_update(key_share=True)
# A transaction-scoped advisory lock per mentee (in memory: no row written), exclusive for the mentee's own
# requests, shared for accepts of their bookings; keyed by a 64-bit hash of the user id.
_REQUESTS = text("SELECT pg_advisory_xact_lock(hashtextextended(CAST(:user_id AS text), 0))")
# One round trip for an accept: the shared lock of its booking's mentee (computed below the row lock), then its
# mentor's schedule (``workflows.scheduling.commitments``' lock, FOR NO KEY UPDATE of the mentor's row); with them,
# what the accept answers with (the two names) and whether the mentor's own calendars need reading first (the rule of
# ``workflows.calendars.sync.refresh_before_accept``: an active connection read before ``fresh_since``, and not
# backing off after a failure), and the oldest read it would decide on (none when one was never read).
_ACCEPTS = statuses(
    "SELECT m.id AS mentor_profile_id, mu.display_name AS mentor_name, e.display_name AS mentee_name, "
    "pg_advisory_xact_lock_shared(hashtextextended(CAST(b.mentee_user_id AS text), 0)), "
    "c.stale AS calendars_stale, c.synced_at AS calendars_synced_at "
    "FROM bookings b JOIN mentor_profiles m ON m.id = b.mentor_profile_id "
    "JOIN users mu ON mu.id = m.user_id JOIN users e ON e.id = b.mentee_user_id "
    "CROSS JOIN LATERAL (SELECT coalesce(bool_or((k.synced_at IS NULL OR k.synced_at < :fresh_since) "
    "AND (k.failures = 0 OR k.next_sync_at <= :now)), false) AS stale, "
    "CASE WHEN bool_or(k.synced_at IS NULL) THEN NULL ELSE min(k.synced_at) END AS synced_at "
    "FROM calendar_connections k WHERE k.mentor_profile_id = m.id AND k.status = :active) c "
    "WHERE b.id = :booking_id FOR NO KEY UPDATE OF m", active=ConnectionStatus.ACTIVE)
_LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class AcceptTurn:
    """What an accept learns as it takes its turns: whose booking it is, their names, and the mentor's calendars."""

    mentor_profile_id: uuid.UUID
    mentor_name: str
    mentee_name: str
    calendars_stale: bool  # some active connection needs reading before the accept decides
    calendars_synced_at: datetime | None  # the oldest read; None with no connection, or one never read


def take_turn(db: Session, mentee_user_id: uuid.UUID) -> None:
    """Wait for the mentee's other requests in flight, and for accepts of their bookings: what they wrote is
    then seen by the checks below."""
    db.execute(_LOCK_MENTEE, {"user_id": mentee_user_id})
    db.execute(_REQUESTS, {"user_id": str(mentee_user_id)})


_TRY_LOCK_MENTEE = select(User.id).where(User.id == bindparam("user_id")).with_for_update(key_share=True,
                                                                                          skip_locked=True)
_TRY_REQUESTS = text("SELECT pg_try_advisory_xact_lock(hashtextextended(CAST(:user_id AS text), 0))")


def try_turn(db: Session, mentee_user_id: uuid.UUID) -> bool:
    """:func:`take_turn` if the mentee's turn is free now, without waiting; ``False`` when it is not (a caller
    holding other locks, the system giving a seat, does something else rather than wait in the wrong order)."""
    if db.execute(_TRY_LOCK_MENTEE, {"user_id": mentee_user_id}).first() is None:
        return False
    return bool(db.scalar(_TRY_REQUESTS, {"user_id": str(mentee_user_id)}))


def accept_turns(db: Session, booking_id: uuid.UUID, *, fresh_since: datetime = _LONG_AGO,
                 now: datetime | None = None) -> AcceptTurn | None:
    """Before an accept locks its booking: wait for the requests in flight of its mentee (holding new ones off
    until this transaction ends, but not other accepts: accepts of one mentee's bookings by different mentors
    run at once), then lock its mentor's schedule. ``None`` when there is no such booking. Its mentor's calendars
    count as stale when never read, or read before ``fresh_since`` (by default, long ago: only the never read)."""
    row = db.execute(_ACCEPTS, {"booking_id": booking_id, "fresh_since": fresh_since,
                                "now": now or utcnow()}).first()
    return None if row is None else AcceptTurn(row.mentor_profile_id, row.mentor_name, row.mentee_name,
                                               row.calendars_stale, row.calendars_synced_at)


def refuse_repeat(db: Session, mentee_user_id: uuid.UUID, listing_id: uuid.UUID, start_time: datetime) -> None:
    """409 when the mentee already asked for this listing at this start and the request is pending."""
    existing = db.scalar(select(Booking.id).where(
        Booking.mentee_user_id == mentee_user_id, Booking.listing_id == listing_id, Booking.start_time == start_time,
        Booking.status == BookingStatus.DRAFT))
    if existing is not None:
        raise Conflict("you already asked for this time: request {existing} is pending",
                       words={"existing": existing}, existing_booking_id=existing,
                       reason="requested_already")


def refuse_beyond_caps(db: Session, mentee_user_id: uuid.UUID, mentor_profile_id: uuid.UUID) -> None:
    """409 when one more request would exceed the mentee's pending requests to this mentor, or in all."""
    settings = get_settings()
    one = func.coalesce(Booking.series_id, Booking.id)  # a series' pending times are one request
    total, to_mentor = db.execute(
        select(func.count(one.distinct()),
               func.count(one.distinct()).filter(Booking.mentor_profile_id == mentor_profile_id))
        .where(Booking.mentee_user_id == mentee_user_id, Booking.status == BookingStatus.DRAFT)
    ).one()
    if to_mentor >= settings.max_pending_requests_per_mentor:
        raise Conflict("you have {to_mentor} pending requests to this mentor already: wait for an answer, or withdraw "
                       "one, before asking again",
                       words={"to_mentor": to_mentor}, limit=settings.max_pending_requests_per_mentor,
                       reason="pending_limit_mentor")
    if total >= settings.max_pending_requests:
        raise Conflict("you have {total} pending requests already: wait for answers, or withdraw some, before asking "
                       "again",
                       words={"total": total}, limit=settings.max_pending_requests, reason="pending_limit")


def refuse_beyond_instant_cap(db: Session, mentee_user_id: uuid.UUID, mentor_profile_id: uuid.UUID, *, cap: int,
                              asking: int, now: datetime) -> None:
    """409 when ``asking`` more instant times would pass what the mentee may hold with the mentor: ``cap`` upcoming
    instant bookings (pending or accepted), one for an unconfirmed address. The caller holds the mentee's turn."""
    confirmed = bool(db.scalar(select(User.email_verified_at.is_not(None)).where(User.id == mentee_user_id)))
    most = cap if confirmed else 1
    held = db.scalar(select(func.count()).select_from(Booking).where(
        Booking.mentee_user_id == mentee_user_id, Booking.mentor_profile_id == mentor_profile_id, Booking.instant,
        Booking.status.in_((BookingStatus.DRAFT, BookingStatus.ACCEPTED)), Booking.start_time > now)) or 0
    if held + asking <= most:
        return
    words = {"held": held, "most": most, "asking": asking}
    if not confirmed:
        raise refused(Rule.INSTANT_LIMIT, _UNCONFIRMED[asking > 1], words=words, limit=most)
    raise refused(Rule.INSTANT_LIMIT, _AT_MOST[asking > 1], words=words, limit=most)


# Instant bookings held to the most allowed (an unconfirmed address holds one), for one time or a series' more.
_UNCONFIRMED = {
    False: refusal("you hold {held} upcoming booking with this mentor; confirm your email address (the link we mailed "
                   "you) to book more times instantly"),
    True: refusal("you hold {held} upcoming booking with this mentor: this series asks for {asking} more; confirm your "
                  "email address (the link we mailed you) to book more times instantly"),
}
_AT_MOST = {
    False: refusal("you hold {held} upcoming instant bookings with this mentor, and this listing allows {most}: wait "
                   "until one has taken place, or cancel one"),
    True: refusal("you hold {held} upcoming instant bookings with this mentor, and this listing allows {most}: this "
                  "series asks for {asking} more: wait until one has taken place, or cancel one"),
}
