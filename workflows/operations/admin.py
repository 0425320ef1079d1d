"""What administrators do beyond operating the service: find users, bookings and sessions, cancel a session,
grant or revoke admin, hide a review, resolve a dispute of who was absent. Every action is recorded in
``admin_actions`` (``GET /admin/audit``); a cancellation is also a ``session.cancelled`` event whose actor is the
admin, in the session's history.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from models import (
    AdminAction,
    AttendanceDispute,
    Booking,
    BookingStatus,
    MentorshipSession,
    NoShow,
    Review,
    SessionStatus,
    User,
)
from workflows import access
from workflows.accounts import audit
from workflows.actors import Actor
from workflows.errors import BusinessRuleViolation, Conflict, NotFound
from workflows.events import EventType
from workflows.pagination import Page, contains, paginate
from workflows.programmes import access as programme_access
from workflows.programmes import lifecycle as programmes
from workflows.sessions import attendance, reviews
from workflows.sessions import lifecycle as sessions

GRANTED_ADMIN = "user.granted_admin"
REVOKED_ADMIN = "user.revoked_admin"
CANCELLED_SESSION = EventType.SESSION_CANCELLED.value  # the admin's action: what its event says
HID_REVIEW = "review.hidden"
RESOLVED_DISPUTE = EventType.ATTENDANCE_RESOLVED.value
NAMED_COORDINATOR = audit.PROGRAMME_COORDINATOR_NAMED
REMOVED_COORDINATOR = "programme.coordinator_removed"
ACTIONS = (GRANTED_ADMIN, REVOKED_ADMIN, CANCELLED_SESSION, HID_REVIEW, RESOLVED_DISPUTE, NAMED_COORDINATOR,
           REMOVED_COORDINATOR, audit.PROGRAMME_COORDINATOR_INVITED,
           audit.PROGRAMME_COORDINATOR_INVITATION_WITHDRAWN)


record_action = access.record_admin_action  # the one helper: the console's actions record through it


def _window(column: InstrumentedAttribute[datetime], start: datetime | None, end: datetime | None
            ) -> list[ColumnElement[bool]]:
    return [clause for clause in (column >= start if start else None, column < end if end else None)
            if clause is not None]


# --- finding ----------------------------------------------------------------------------------------


def list_users(db: Session, *, q: str | None, is_admin: bool | None, limit: int, cursor: str | None,
               disabled: bool | None = None, id: uuid.UUID | None = None) -> Page[User]:  # noqa: A002 - the filter
    """Users, newest first; ``q`` searches email and display name (case-insensitive, a substring)."""
    query = select(User) if id is None else select(User).where(User.id == id)
    if disabled is not None:
        query = query.where(User.disabled_at.is_not(None) if disabled else User.disabled_at.is_(None))
    if q:
        pattern = contains(q)
        query = query.where(or_(User.email.ilike(pattern, escape="\\"), User.display_name.ilike(pattern, escape="\\")))
    if is_admin is not None:
        query = query.where(User.is_admin.is_(is_admin))
    return paginate(db, query, User.created_at, User.id, limit=limit, cursor=cursor, descending=True)


def list_bookings(db: Session, *, status: str | None, mentor_profile_id: uuid.UUID | None,
                  mentee_user_id: uuid.UUID | None, start_from: datetime | None, start_to: datetime | None,
                  limit: int, cursor: str | None) -> Page[Booking]:
    """Every booking, newest first, by status, mentor, mentee and start time in [from, to)."""
    query = select(Booking).where(*_window(Booking.start_time, start_from, start_to))
    if status:
        query = query.where(Booking.status == BookingStatus(status))
    if mentor_profile_id:
        query = query.where(Booking.mentor_profile_id == mentor_profile_id)
    if mentee_user_id:
        query = query.where(Booking.mentee_user_id == mentee_user_id)
    return paginate(db, query, Booking.created_at, Booking.id, limit=limit, cursor=cursor, descending=True)


def list_sessions(db: Session, *, status: str | None, mentor_profile_id: uuid.UUID | None,
                  start_from: datetime | None, start_to: datetime | None, limit: int, cursor: str | None
                  ) -> Page[MentorshipSession]:
    """Every session in start order, by status, mentor and start time in [from, to)."""
    query = select(MentorshipSession).where(*_window(MentorshipSession.start_time, start_from, start_to))
    if status:
        query = query.where(MentorshipSession.status == SessionStatus(status))
    if mentor_profile_id:
        query = query.where(MentorshipSession.mentor_profile_id == mentor_profile_id)
    return paginate(db, query, MentorshipSession.start_time, MentorshipSession.id, limit=limit, cursor=cursor)


def list_reviews(db: Session, *, mentor_profile_id: uuid.UUID | None, hidden: bool | None, limit: int,
                 cursor: str | None) -> Page[Review]:
    """Every review, newest first (hidden ones too), of one mentor or all: how an admin finds one to hide."""
    query = select(Review)
    if mentor_profile_id:
        query = query.where(Review.mentor_profile_id == mentor_profile_id)
    if hidden is not None:
        query = query.where(Review.hidden_at.is_not(None) if hidden else Review.hidden_at.is_(None))
    return paginate(db, query, Review.created_at, Review.id, limit=limit, cursor=cursor, descending=True)


def list_actions(db: Session, *, target_id: uuid.UUID | None, limit: int, cursor: str | None) -> Page[AdminAction]:
    """The audit trail, newest first, optionally of one user, session or review."""
    query = select(AdminAction)
    if target_id:
        query = query.where(AdminAction.target_id == target_id)
    return paginate(db, query, AdminAction.created_at, AdminAction.id, limit=limit, cursor=cursor, descending=True)


# --- acting -----------------------------------------------------------------------------------------


def cancel_session(db: Session, actor: Actor, session_id: uuid.UUID, *, reason: str) -> MentorshipSession:
    """Cancel someone's session through the session workflow, as the admin, and record why."""
    access.require_admin(actor)
    session = sessions.cancel_session_as_admin(db, actor, session_id, reason=reason)
    record_action(db, actor, CANCELLED_SESSION, "session", session.id, reason=reason)
    return session


def resolve_dispute(db: Session, actor: Actor, dispute_id: uuid.UUID, *, absent: NoShow, note: str | None = None
                    ) -> AttendanceDispute:
    """Answer a dispute of who was absent through the attendance workflow, and record it with the note."""
    access.require_admin(actor)
    found = attendance.resolve_dispute(db, actor, dispute_id, absent=absent, note=note)
    record_action(db, actor, RESOLVED_DISPUTE, "dispute", found.id, reason=note)
    return found


def _user(db: Session, user_id: uuid.UUID, *, lock: bool = False) -> User:
    user = db.get(User, user_id, with_for_update=lock or None)
    if user is None or user.deleted_at is not None:
        raise NotFound("user not found")
    return user


def grant_admin(db: Session, actor: Actor, user_id: uuid.UUID, *, reason: str) -> User:
    """Make a user an admin, with the reason the audit trail keeps (idempotent: granting twice records once)."""
    access.require_admin(actor)
    user = _user(db, user_id, lock=True)
    if not user.is_admin:
        user.is_admin = True
        db.flush()
        record_action(db, actor, GRANTED_ADMIN, "user", user.id, reason=reason)
    return user


def revoke_admin(db: Session, actor: Actor, user_id: uuid.UUID, *, reason: str) -> User:
    """Take admin away, with the reason the audit trail keeps; 409 when it would leave no admin. The admins' rows
    are locked, so two concurrent revocations cannot each see another admin left."""
    access.require_admin(actor)
    admins = set(db.scalars(select(User.id).where(User.is_admin.is_(True), User.deleted_at.is_(None),
                                                  User.disabled_at.is_(None))
                            .order_by(User.id).with_for_update()))
    user = _user(db, user_id)
    if not user.is_admin:
        return user
    if admins <= {user.id}:
        raise Conflict("the last admin cannot be revoked: grant admin to someone else first", reason="last_admin")
    user.is_admin = False
    db.flush()
    record_action(db, actor, REVOKED_ADMIN, "user", user.id, reason=reason)
    return user


def hide_review(db: Session, actor: Actor, review_id: uuid.UUID, *, reason: str) -> Review:
    """Hide a review from public lists and the mentor's rating, and record why."""
    access.require_admin(actor)
    review = db.get(Review, review_id)
    if review is not None and review.hidden_at is not None:
        return review
    review = reviews.hide_review(db, review_id, reason=reason)
    record_action(db, actor, HID_REVIEW, "review", review.id, reason=reason)
    return review


def name_coordinator(db: Session, actor: Actor, programme_id: uuid.UUID, user_id: uuid.UUID, *, reason: str
                     ) -> programmes.ProgrammeView:
    """Add one coordinator to a programme through its workflow (who is told, and its history, follow); recorded
    against the programme (its history names the user).
    Naming one who coordinates it already changes nothing and records nothing; an account whose address is not
    confirmed is refused (400): anyone may claim an address, so its rights wait for the confirmation
    (``workflows.programmes.coordinator_invitations``)."""
    access.require_admin(actor)
    programme_access.may_change(db, actor, programme_id)  # its coordinators read under the programme's lock
    before = programmes.coordinators_of(db, programme_id)
    if user_id in before:
        return programmes.get(db, actor, programme_id)
    if db.scalar(select(User.email_verified_at).where(User.id == user_id)) is None:
        raise BusinessRuleViolation("that account's address is not confirmed: name them by address instead (they are "
                                    "invited, and coordinate once it is confirmed)", field="user_id")
    return programmes.set_coordinators(db, actor, programme_id, [*before, user_id], audited_as=NAMED_COORDINATOR,
                                       reason=reason)


def remove_coordinator(db: Session, actor: Actor, programme_id: uuid.UUID, user_id: uuid.UUID, *, reason: str
                       ) -> programmes.ProgrammeView:
    """Take one coordinator off a programme through its workflow; recorded. 404 when they do not coordinate it."""
    access.require_admin(actor)
    programme_access.may_change(db, actor, programme_id)
    before = programmes.coordinators_of(db, programme_id)
    if user_id not in before:
        raise NotFound("that user does not coordinate this programme")
    return programmes.set_coordinators(db, actor, programme_id, [uid for uid in before if uid != user_id],
                                       audited_as=REMOVED_COORDINATOR, reason=reason)
