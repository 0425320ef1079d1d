"""Attendance: who came to a session, who did not, what that costs, and disputes of it.

Each participant checks in from ``START_EARLY_MINUTES`` before the start until the end; starting a session is the
starter's check-in. From ``NO_SHOW_GRACE_MINUTES`` after the start, a participant who checked in may report the other
absent (a group's mentor: every mentee, when none came). When the session's time is over, the sweeps find the rest
(:func:`close`): both came, completed; only the mentor, ``mentee_no_show``; only the mentee(s), ``mentor_no_show``;
nobody, ``missed``. A group session that took place records each absent seat (``booking.no_show``).

Who was absent is kept per meeting of the mentor with a mentee (the booking, or a seat): ``Booking.no_show``. A finding
rests on one side's word (a check-in, a report) and is not final at once: the side found absent may dispute it within
``NO_SHOW_DISPUTE_HOURS``, and nothing moves meanwhile (the credit stays held, no fee is due). Undisputed, it becomes
final when the window closes (:func:`confirm_due`, the beat's ``maintenance.confirm_attendance``); disputed, when an
administrator sets who was absent (``none``: nobody). Only then do its effects follow (:func:`attribute`): a mentee's
absence forfeits the bundle credit, or else costs the late-cancellation fee; a mentor's gives the credit back and
costs nothing, and counts against them (``mentor_no_shows``: final findings only). The session's terminal status
never changes; each step is an event in its history (``booking.no_show_confirmed`` when a finding becomes final).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import (
    AttendanceDispute,
    Booking,
    BookingStatus,
    CreditStatus,
    DisputeStatus,
    ListingKind,
    MentorshipSession,
    NoShow,
    SessionStatus,
)
from workflows import access
from workflows.actors import Actor
from workflows.bookings.bundles import settle_credit
from workflows.bookings.lifecycle import late_fee
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound, add_or_conflict, refusal
from workflows.events import EventType, record
from workflows.pagination import Page, paginate
from workflows.payloads import SeatNoShowPayload, booking_payload, dispute_payload
from workflows.roles import Role
from workflows.sessions.lifecycle import SESSIONS, SessionAction, emit_event, mark_arrival, meeting_of
from workflows.state_machine import StateMachine, move

log = structlog.get_logger(__name__)


class DisputeAction(StrEnum):
    RESOLVE = "resolve"


# A dispute is raised open (by the side found absent) and answered once, by an administrator.
DISPUTES = StateMachine("dispute", AttendanceDispute, {
    DisputeAction.RESOLVE: move(DisputeStatus.OPEN, DisputeStatus.RESOLVED, Role.ADMIN),
})

OPEN = frozenset({SessionStatus.SCHEDULED, SessionStatus.IN_PROGRESS})
# Where someone can have been found absent: a no-show, or a group session that took place without some seats.
FOUND = frozenset({SessionStatus.MENTEE_NO_SHOW, SessionStatus.MENTOR_NO_SHOW, SessionStatus.COMPLETED})
# The credit an attribution leaves the mentee's meeting with: used by the absence, given back, or used by the meeting.
_CREDIT = {NoShow.MENTEE: CreditStatus.FORFEITED, NoShow.MENTOR: CreditStatus.RETURNED, NoShow.NONE: CreditStatus.HELD}


def _meetings(db: Session, session: MentorshipSession) -> list[Booking]:
    """The session's meetings, locked in id order: an individual session's booking, a group session's held seats."""
    whose = Booking.id == session.booking_id if session.booking_id is not None else (
        (Booking.group_session_id == session.id) & (Booking.status == BookingStatus.ACCEPTED))
    return list(db.scalars(select(Booking).where(whose).order_by(Booking.id).with_for_update()))


# --- checking in, and reporting the other absent -------------------------------------------------------


def check_in(db: Session, actor: Actor, session_id: uuid.UUID, *, now: datetime | None = None) -> MentorshipSession:
    """The actor says they are here (either participant); a second check-in changes nothing."""
    session, role = SESSIONS.load_to_act(db, actor, session_id)
    now = now or utcnow()
    if session.status not in OPEN:
        raise BusinessRuleViolation("this session is {status}: check-in is closed", words={"status": session.status},
                                    current_status=session.status.value)
    opens = session.start_time - timedelta(minutes=get_settings().start_early_minutes)
    if now < opens:
        raise BusinessRuleViolation("too early: check-in opens at {opens}",
                                    words={"opens": opens.isoformat()}, opens_at=opens.isoformat())
    if now >= session.end_time:
        raise BusinessRuleViolation("this session's time has passed")
    if mark_arrival(db, session, role, actor.user_id, now):
        db.flush()
        emit_event(db, session, EventType.SESSION_CHECKED_IN, str(actor), checked_in_role=role.value,
                   checked_in_at=now.isoformat())
    return session


def report_no_show(db: Session, actor: Actor, session_id: uuid.UUID, *, now: datetime | None = None
                   ) -> MentorshipSession:
    """A participant who checked in reports the other absent, from ``NO_SHOW_GRACE_MINUTES`` after the start: the
    mentor reports the mentee (a group's mentor, when no mentee checked in), a mentee the mentor."""
    session, role = SESSIONS.load_to_act(db, actor, session_id)
    action = SessionAction.MENTEE_NO_SHOW if role == Role.MENTOR else SessionAction.MENTOR_NO_SHOW
    SESSIONS.check(session, action, role)
    now = now or utcnow()
    grace = timedelta(minutes=get_settings().no_show_grace_minutes)
    opens, closes = session.start_time + grace, session.end_time + grace
    if now < opens:
        raise BusinessRuleViolation("too early: someone can be reported absent from {opens}",
                                    words={"opens": opens.isoformat()},
                                    opens_at=opens.isoformat())
    if now >= closes:
        raise BusinessRuleViolation("too late: the session's time is over, and who came is found from the check-ins",
                                    closed_at=closes.isoformat())
    meetings = _meetings(db, session)
    came = [meeting for meeting in meetings if meeting.checked_in_at is not None]
    if role == Role.MENTOR:
        if session.mentor_checked_in_at is None:
            raise BusinessRuleViolation("check in first: only someone who came can report the other absent")
        if came:
            raise Conflict(refusal("the mentee checked in") if session.kind == ListingKind.INDIVIDUAL else
                           refusal("a mentee checked in: absent seats are recorded when the session's time is over"),
                           reason="mentee_checked_in")
        _end_absent(db, session, action, role, actor=str(actor), absent=NoShow.MENTEE, attributed=meetings, now=now)
    else:
        if meeting_of(db, session, actor.user_id).checked_in_at is None:
            raise BusinessRuleViolation("check in first: only someone who came can report the other absent")
        if session.mentor_checked_in_at is not None:
            raise Conflict("the mentor checked in", reason="mentor_checked_in")
        _end_absent(db, session, action, role, actor=str(actor), absent=NoShow.MENTOR, attributed=meetings, now=now)
    return session


def _end_absent(db: Session, session: MentorshipSession, action: SessionAction, role: Role, *, actor: str,
                absent: NoShow, attributed: list[Booking], now: datetime) -> None:
    """End the session with ``absent`` missing, and attribute it to each of ``attributed``: every seat (a mentor who
    did not come served none of them; a mentee who arrived after the report pays nothing either)."""
    moved = SESSIONS.apply(session, action, role)
    for meeting in attributed:
        find(meeting, absent, now=now)
    db.flush()
    emit_event(db, session, moved.event, actor, absent=absent.value, reported_by=role.value)
    log.info(EventType.SESSION_NO_SHOW, session_id=str(session.id), absent=absent.value, reported_by=role.value)


def close(db: Session, session: MentorshipSession, *, now: datetime) -> None:
    """End a session whose time is over by who checked in (the sweeps; the session is locked).

    A session started before check-ins were recorded (nobody checked in, yet in progress) is completed as before.
    """
    meetings = _meetings(db, session)
    came = [meeting for meeting in meetings if meeting.checked_in_at is not None]
    mentor_came = session.mentor_checked_in_at is not None
    system = Role.SYSTEM.value
    if mentor_came and not came and meetings:
        _end_absent(db, session, SessionAction.MENTEE_NO_SHOW, Role.SYSTEM, actor=system, absent=NoShow.MENTEE,
                    attributed=meetings, now=now)
    elif came and not mentor_came:
        _end_absent(db, session, SessionAction.MENTOR_NO_SHOW, Role.SYSTEM, actor=system, absent=NoShow.MENTOR,
                    attributed=meetings, now=now)
    elif not came and not mentor_came and session.status == SessionStatus.SCHEDULED:
        missed = SESSIONS.apply(session, SessionAction.MISS, Role.SYSTEM)
        emit_event(db, session, missed.event, system)
    else:
        action = SessionAction.COMPLETE if session.status == SessionStatus.IN_PROGRESS else SessionAction.CLOSE
        completed = SESSIONS.apply(session, action, Role.SYSTEM)
        session.completed_at = now
        session.completed_by = system
        for seat in (meeting for meeting in meetings if meeting.checked_in_at is None and came):
            find(seat, NoShow.MENTEE, now=now)
            db.flush()
            record(db, EventType.BOOKING_NO_SHOW, {
                **booking_payload(seat), "session_id": str(session.id), "no_show": NoShow.MENTEE.value,
                "no_show_fee_cents": seat.no_show_fee_cents, "credit_status": seat.credit_status.value},
                actor=system)
        db.flush()
        # A group session's completion names those who came: they may review it, the absent may not.
        emit_event(db, session, completed.event, system,
                   [m.mentee_user_id for m in came] if session.kind == ListingKind.GROUP else None)


def find(booking: Booking, absent: NoShow, *, now: datetime) -> None:
    """Record who was found absent on one side's word: open to dispute, and nothing moves yet (the credit stays held
    and no fee is due) until it is final (:func:`confirm_due`, or an administrator's decision)."""
    booking.no_show = absent
    booking.no_show_fee_cents = 0
    booking.no_show_at = now
    booking.no_show_confirmed_at = None


def attribute(db: Session, booking: Booking, absent: NoShow, *, now: datetime) -> None:
    """Set who was absent from the meeting as final, and its effects, from whatever they were before (a finding
    held until now, or an administrator's correction): a mentee's absence forfeits the bundle credit, or else costs
    the late-cancellation fee (``CANCELLATION_FEE_PERCENT`` of the price); a mentor's gives the credit back and costs
    nothing; ``none`` leaves the credit used by the meeting and costs nothing more."""
    fee = 0
    if booking.bundle_purchase_id is not None and booking.credit_status != CreditStatus.NONE:
        if not settle_credit(db, booking, _CREDIT[absent]) and absent == NoShow.MENTEE:
            fee = late_fee(booking)  # the credit was spent since
    elif absent == NoShow.MENTEE:
        fee = late_fee(booking)
    booking.no_show = absent
    booking.no_show_fee_cents = fee
    booking.no_show_at = booking.no_show_at or now
    booking.no_show_confirmed_at = now


def confirm_due(db: Session, *, now: datetime | None = None, limit: int = 200) -> int:
    """Make final each finding whose dispute window has closed without a dispute (one under dispute waits for the
    administrator): its credit and fee move now, and both sides are told (``booking.no_show_confirmed``). SKIP
    LOCKED: two beats confirm each once; a dispute being raised holds its meeting until it is decided."""
    now = now or utcnow()
    window = timedelta(hours=get_settings().no_show_dispute_hours)
    disputed = select(AttendanceDispute.id).where(AttendanceDispute.booking_id == Booking.id,
                                                  AttendanceDispute.status == DisputeStatus.OPEN).exists()
    due = list(db.scalars(select(Booking).where(
        Booking.no_show.in_((NoShow.MENTEE, NoShow.MENTOR)), Booking.no_show_confirmed_at.is_(None),
        Booking.no_show_at <= now - window, ~disputed).order_by(Booking.no_show_at).limit(limit)
        .with_for_update(skip_locked=True)))
    for booking in due:
        assert booking.no_show is not None  # selected so
        attribute(db, booking, booking.no_show, now=now)
        db.flush()
        record(db, EventType.BOOKING_NO_SHOW_CONFIRMED, confirmed_payload(db, booking), actor=Role.SYSTEM.value)
    return len(due)


def confirmed_payload(db: Session, booking: Booking) -> SeatNoShowPayload:
    """``booking.no_show_confirmed``'s payload: the meeting, who was absent, and what it cost now."""
    session_id = booking.group_session_id or db.scalar(select(MentorshipSession.id).where(
        MentorshipSession.booking_id == booking.id))
    return {**booking_payload(booking), "session_id": str(session_id),
            "no_show": booking.no_show.value if booking.no_show else "none",
            "no_show_fee_cents": booking.no_show_fee_cents, "credit_status": booking.credit_status.value}


# --- disputes ---------------------------------------------------------------------------------------------


def dispute(db: Session, actor: Actor, session_id: uuid.UUID, *, reason: str, booking_id: uuid.UUID | None = None,
            now: datetime | None = None) -> AttendanceDispute:
    """The side found absent disputes it, within ``NO_SHOW_DISPUTE_HOURS`` of the finding; one dispute per meeting.
    A group's mentor found absent disputes the session once (every seat follows the answer); a group's mentor
    disputing a mentee's absence names the seat (``booking_id``)."""
    session, role = SESSIONS.load_to_act(db, actor, session_id)
    now = now or utcnow()
    if session.status not in FOUND:
        raise BusinessRuleViolation("this session is {status}: nobody was found absent from it",
                                    words={"status": session.status})
    booking = _disputed_meeting(db, session, role, actor, booking_id)
    if booking is None or booking.no_show not in (NoShow.MENTEE, NoShow.MENTOR) or booking.no_show_at is None:
        raise BusinessRuleViolation("nobody was found absent from this meeting: there is nothing to dispute")
    if booking.no_show.value != role.value:
        raise Forbidden("only the {no_show}, found absent, can dispute this finding",
                        words={"no_show": booking.no_show.value})
    closes = booking.no_show_at + timedelta(hours=get_settings().no_show_dispute_hours)
    if now >= closes:
        raise BusinessRuleViolation("too late: this finding could be disputed until {closes}",
                                    words={"closes": closes.isoformat()})
    found = AttendanceDispute(id=uuid.uuid4(), booking_id=booking.id, session_id=session.id, raised_by=role.value,
                              raised_by_user_id=actor.user_id, reason=reason, status=DisputeStatus.OPEN,
                              attribution_before=booking.no_show)
    add_or_conflict(db, found, {
        "uq_attendance_disputes_booking_id": Conflict(
        "this finding was disputed already: an administrator decides once", reason="disputed_already")})
    record(db, EventType.ATTENDANCE_DISPUTED, dispute_payload(found, booking), actor=str(actor))
    log.info(EventType.ATTENDANCE_DISPUTED, dispute_id=str(found.id), booking_id=str(booking.id), raised_by=role.value)
    return found


def _disputed_meeting(db: Session, session: MentorshipSession, role: Role, actor: Actor,
                      booking_id: uuid.UUID | None) -> Booking | None:
    """The meeting a dispute is about, locked: the mentee's own; an individual session's; for a group's mentor, the
    seat named, or (their own absence) the first seat, which stands for the session."""
    if role == Role.MENTEE or session.booking_id is not None:
        return meeting_of(db, session, actor.user_id)  # an individual session's booking, whoever asks
    seats = select(Booking).where(Booking.group_session_id == session.id).order_by(Booking.id).with_for_update()
    if booking_id is not None:
        return db.scalars(seats.where(Booking.id == booking_id)).one_or_none()
    return db.scalars(seats.where(Booking.no_show == NoShow.MENTOR).limit(1)).one_or_none()


def list_disputes(db: Session, actor: Actor, *, status: str | None, limit: int, cursor: str | None
                  ) -> Page[AttendanceDispute]:
    """Disputes for administrators, oldest first (the open ones are their queue)."""
    access.require_admin(actor)
    query = select(AttendanceDispute)
    if status:
        query = query.where(AttendanceDispute.status == DisputeStatus(status))
    return paginate(db, query, AttendanceDispute.created_at, AttendanceDispute.id, limit=limit, cursor=cursor)


def resolve_dispute(db: Session, actor: Actor, dispute_id: uuid.UUID, *, absent: NoShow, note: str | None = None,
                    now: datetime | None = None) -> AttendanceDispute:
    """An administrator sets who was absent (``none``: nobody), and its effects follow; the session's status stays."""
    access.require_admin(actor)
    found = db.get(AttendanceDispute, dispute_id, with_for_update=True)
    if found is None:
        raise NotFound("dispute not found")
    if found.status not in DISPUTES.moved_by(DisputeAction.RESOLVE)[0]:  # a second answer races the first: 409
        raise Conflict("this dispute was resolved already", current_status=found.status.value,
                       reason="dispute_resolved_already")
    now = now or utcnow()
    booking = db.get_one(Booking, found.booking_id, with_for_update=True)
    attribute(db, booking, absent, now=now)
    if found.raised_by == Role.MENTOR and booking.group_session_id is not None \
            and found.attribution_before == NoShow.MENTOR:
        # The group's mentor disputed their own absence: every seat it was found for follows the answer.
        for seat in db.scalars(select(Booking).where(
                Booking.group_session_id == booking.group_session_id, Booking.no_show == NoShow.MENTOR,
                Booking.id != booking.id).order_by(Booking.id).with_for_update()):
            attribute(db, seat, absent, now=now)
    DISPUTES.apply(found, DisputeAction.RESOLVE, Role.ADMIN)
    found.attribution_after = absent
    found.resolved_by_user_id = actor.user_id
    found.resolution_note = note
    found.resolved_at = now
    db.flush()
    record(db, EventType.ATTENDANCE_RESOLVED, dispute_payload(found, booking), actor=actor.as_admin())
    log.info(EventType.ATTENDANCE_RESOLVED, dispute_id=str(found.id), before=found.attribution_before.value,
             after=absent.value)
    return found


def mentor_no_shows(db: Session, mentor_profile_id: uuid.UUID) -> int:
    """Sessions the mentor was finally found absent from (a group session's once), corrections included; a finding
    still open to dispute does not count yet."""
    return db.scalar(select(func.count(func.distinct(func.coalesce(Booking.group_session_id, Booking.id))))
                     .where(Booking.mentor_profile_id == mentor_profile_id, Booking.no_show == NoShow.MENTOR,
                            Booking.no_show_confirmed_at.is_not(None))) or 0
