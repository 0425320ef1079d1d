"""Deleting an account: its future commitments are cancelled, then the person is anonymised.

Cancellations go through the ordinary workflows (bookings declined or withdrawn, sessions cancelled),
so every party gets the same events, notifications and webhooks as for a cancellation by hand, and the
cancellation policy applies as it would: a mentee cancelling within the window pays the late fee or
forfeits the credit; a mentor's cancellation always refunds. A mentor's future group sessions are
cancelled whole (each seat refunded, each participant told). Sessions already in progress, and
everything in the past, are left as they are: they are other people's history too.

The user row stays, anonymised: no email, no name, no usable password, no live token. Their mentor
profile leaves the directory, its listings stop taking bookings, their webhook endpoints stop.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import structlog
from sqlalchemy import and_, delete, false, or_, select, update
from sqlalchemy.orm import Session

from models import (
    Booking,
    BookingSeries,
    BookingStatus,
    CancelCause,
    CoordinatorInvitation,
    EmailStatus,
    FeedRevocation,
    InvitationStatus,
    Listing,
    MentorProfile,
    MentorshipSession,
    Message,
    Pairing,
    PairingStatus,
    ParticipantAvailability,
    ParticipantStatus,
    ProgrammeCoordinator,
    ProgrammeInvitation,
    ProgrammeParticipant,
    SeriesStatus,
    SessionStatus,
    User,
    UserIdentity,
    WebhookEndpoint,
)
from workflows.accounts import sign_ins
from workflows.accounts.users import verify_current_password
from workflows.actors import Actor
from workflows.bookings import lifecycle as bookings
from workflows.bookings import series
from workflows.calendars import feeds as calendars
from workflows.clock import utcnow
from workflows.errors import Forbidden, InvalidInput, Unauthenticated
from workflows.roles import Role
from workflows.sessions import lifecycle as sessions

log = structlog.get_logger(__name__)

DELETED_NAME = "Deleted user"
DELETED_REASON = "account deleted"
DELETED_PAIRING = "one of the pair deleted their account"
RECENT_SIGN_ON = timedelta(minutes=15)  # how recent a sign-in at a provider proves an account with no password
# Never a valid argon2 hash: every password check against it fails.
UNUSABLE_HASH = "!account-deleted"


def placeholder_email(user_id: uuid.UUID) -> str:
    """Unique per user, and under ``.invalid`` (RFC 2606): no mail can ever be delivered to it."""
    return f"deleted-{user_id.hex}@deleted.invalid"


def delete_account(db: Session, actor: Actor, *, current_password: str | None, signed_on_at: datetime | None = None,
                   now: datetime | None = None) -> list[uuid.UUID]:
    """Cancel the actor's future bookings and sessions, take them off what they coordinate, then anonymise them;
    403 on a wrong password. An account with no password (made by a sign-in at an organisation's provider) proves
    itself by a sign-in there in the last ``RECENT_SIGN_ON`` (``signed_on_at``: when the caller's sign-in through a
    provider began). The pairings it ended, whose events the caller records
    (``workflows.programmes.pairings.record_ended``: pairings stand above accounts)."""
    now = now or utcnow()
    user = db.get(User, actor.user_id, with_for_update={"key_share": True}, populate_existing=True)
    if user is None or user.deleted_at is not None:
        raise Unauthenticated("the token's user no longer exists")
    if user.password_hash is None:
        if signed_on_at is None or signed_on_at < now - RECENT_SIGN_ON:
            raise Forbidden("your account has no password: sign in with your organisation again, then delete it "
                            "within 15 minutes")
    elif current_password is None:
        raise InvalidInput("current_password: your password is needed to delete your account",
                           field="current_password")
    else:
        verify_current_password(user, current_password)
    return erase_account(db, actor, user, now=now)


def erase_account(db: Session, actor: Actor, user: User, *, now: datetime) -> list[uuid.UUID]:
    """What deleting an account does once it is decided (by its owner's password, or by an admin): ``actor`` is the
    account's own user, so its commitments end as if they ended them. Returns the pairings it ended."""
    cancel_future_commitments(db, actor, now)
    former_email = user.email
    user.email = placeholder_email(user.id)
    user.display_name = DELETED_NAME
    user.password_hash = UNUSABLE_HASH
    user.timezone = user.locale = None
    user.deleted_at = now
    db.flush()
    sign_ins.end_all(db, user.id, now=now)
    calendars.revoke_feed_token(db, user.id, FeedRevocation.ACCOUNT_DELETED)
    if actor.mentor_profile_id is not None:
        db.execute(update(MentorProfile).where(MentorProfile.id == actor.mentor_profile_id)
                   .values(listed=False, bio="", avatar_url=None))
        db.execute(update(Listing).where(Listing.mentor_profile_id == actor.mentor_profile_id, Listing.active)
                   .values(active=False))
    db.execute(update(WebhookEndpoint).where(WebhookEndpoint.owner_user_id == user.id, WebhookEndpoint.enabled)
               .values(enabled=False, disabled_reason=DELETED_REASON))
    # No longer anyone's coordinator: the programmes' admins name another. Out of the programmes they took part in,
    # their intake answers and windows gone with them (the participation's row stays, as any record of theirs).
    db.execute(delete(ProgrammeCoordinator).where(ProgrammeCoordinator.user_id == user.id))
    # Their messages keep their places, without their words (events never held them): "a deleted account".
    db.execute(update(Message).where(Message.sender_user_id == user.id, Message.deleted_at.is_(None))
               .values(body=None, deleted_at=now, points_to_kind=None, points_to_id=None))
    # Its identities at organisations' providers go: signing in there again makes a new account.
    db.execute(delete(UserIdentity).where(UserIdentity.user_id == user.id))
    db.execute(update(ProgrammeParticipant).where(ProgrammeParticipant.user_id == user.id,
                                                  ProgrammeParticipant.status == ParticipantStatus.ACTIVE)
               .values(status=ParticipantStatus.LEFT, ended_at=now))
    db.execute(update(ProgrammeParticipant).where(ProgrammeParticipant.user_id == user.id)
               .values(intake_answers=None, intake_answered_at=None, timezone=None))
    db.execute(delete(ParticipantAvailability).where(ParticipantAvailability.participant_id.in_(
        select(ProgrammeParticipant.id).where(ProgrammeParticipant.user_id == user.id))))
    # Their live pairings end (their sessions were cancelled above), and the invitations to their address forget it.
    theirs = Pairing.mentee_user_id == user.id
    if actor.mentor_profile_id is not None:
        theirs = theirs | (Pairing.mentor_profile_id == actor.mentor_profile_id)
    ended = list(db.scalars(update(Pairing).where(theirs, Pairing.status != PairingStatus.ENDED).values(
        status=PairingStatus.ENDED, ended_at=now, ended_by=Role.SYSTEM.value, end_reason=DELETED_PAIRING,
        resume_on=None).returning(Pairing.id)))
    to_them = (ProgrammeInvitation.user_id == user.id) | (ProgrammeInvitation.email == former_email)
    db.execute(update(ProgrammeInvitation).where(to_them, ProgrammeInvitation.status == InvitationStatus.PENDING)
               .values(status=InvitationStatus.WITHDRAWN, decided_at=now, email_status=EmailStatus.NONE))
    db.execute(update(ProgrammeInvitation).where(to_them).values(email=user.email, name=""))
    named = (CoordinatorInvitation.user_id == user.id) | (CoordinatorInvitation.email == former_email)
    db.execute(update(CoordinatorInvitation).where(named, CoordinatorInvitation.status == InvitationStatus.PENDING)
               .values(status=InvitationStatus.WITHDRAWN, decided_at=now, email_status=EmailStatus.NONE))
    db.execute(update(CoordinatorInvitation).where(named).values(email=user.email))
    db.flush()
    log.info("account.deleted", user_id=str(user.id))
    return ended


def cancel_future_commitments(db: Session, actor: Actor, now: datetime, *, reason: str = DELETED_REASON) -> None:
    """Every booking and session of the actor that starts after ``now``, ended by its workflow, saying ``reason``."""
    as_mentor = Booking.mentor_profile_id == actor.mentor_profile_id if actor.mentor_profile_id else None
    # A series waiting for an answer is withdrawn (the actor its mentee) or declined (its mentor), whole: its times
    # are not answered one by one.
    pending = db.execute(select(BookingSeries.id, BookingSeries.mentee_user_id).where(
        BookingSeries.status == SeriesStatus.REQUESTED,
        or_(BookingSeries.mentee_user_id == actor.user_id,
            BookingSeries.mentor_profile_id == actor.mentor_profile_id if actor.mentor_profile_id else false()),
    ).order_by(BookingSeries.id)).all()
    for series_id, mentee in pending:
        if mentee == actor.user_id:
            series.withdraw(db, actor, series_id, reason=reason, now=now)
        else:
            series.decline(db, actor, series_id, reason=reason, now=now)
    future = Booking.start_time > now
    drafts = db.execute(select(Booking.id, Booking.mentee_user_id).where(
        future, Booking.status == BookingStatus.DRAFT,
        or_(Booking.mentee_user_id == actor.user_id, *([as_mentor] if as_mentor is not None else [])),
    ).order_by(Booking.start_time, Booking.id)).all()
    for booking_id, mentee in drafts:
        if mentee == actor.user_id:
            bookings.cancel_booking(db, actor, booking_id, reason)
        else:
            bookings.decline_booking(db, actor, booking_id, reason)
    # An accepted booking whose session the worker has not created yet: create it now (idempotent; the
    # worker then finds it done), so it is cancelled like any other.
    accepted = db.scalars(select(Booking.id).where(
        future, Booking.status == BookingStatus.ACCEPTED, Booking.group_session_id.is_(None),
        or_(Booking.mentee_user_id == actor.user_id, *([as_mentor] if as_mentor is not None else [])),
    ).order_by(Booking.start_time, Booking.id)).all()
    for booking_id in accepted:
        sessions.create_session_from_booking(db, booking_id)
    seats = select(Booking.group_session_id).where(
        Booking.mentee_user_id == actor.user_id, Booking.status == BookingStatus.ACCEPTED,
        Booking.group_session_id.is_not(None))
    mine = [MentorshipSession.mentee_user_id == actor.user_id, MentorshipSession.id.in_(seats)]
    if actor.mentor_profile_id is not None:
        mine.append(MentorshipSession.mentor_profile_id == actor.mentor_profile_id)
    scheduled = db.scalars(select(MentorshipSession.id).where(
        and_(MentorshipSession.start_time > now, MentorshipSession.status == SessionStatus.SCHEDULED), or_(*mine),
    ).order_by(MentorshipSession.start_time, MentorshipSession.id)).all()
    for session_id in scheduled:
        sessions.cancel_session(db, actor, session_id, reason=reason, now=now, cause=CancelCause.LEAVE)
