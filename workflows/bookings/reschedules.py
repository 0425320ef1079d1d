"""Moving an accepted one-to-one booking by agreement: one participant proposes one to three new times, the other
accepts one (or declines), and the meeting moves, at no cost to either.

A session's times equal its booking's and are never edited, so a move does not edit anything: in one
transaction the old booking becomes ``rescheduled`` (its session, if made, ``cancelled`` with the reason
``rescheduled`` and no fee) and a new booking at the chosen time is made ``accepted``, linked to it
(``rescheduled_from_booking_id``; the chain's first booking, ``chain_booking_id``, gives every booking of the
chain one calendar UID). ``booking.rescheduled`` is the new booking's event: the worker makes its session from
it, exactly once, as from ``booking.accepted``. A bundle credit moves with the booking (``moved`` on the old one,
``held`` on the new): never spent twice, never lost. A chain moves at most ``MAX_RESCHEDULES_PER_BOOKING`` times.

Proposed times must be free under every scheduling rule (``workflows.scheduling.rules``) when proposed and again when
accepted, the booking's own time aside. An accept takes the locks a booking's accept takes (the mentee's turn,
shared, then the mentor's schedule), then the proposal, then the old session and booking in the order a
cancellation takes them, so an accept racing another accept or a cancellation leaves exactly one outcome.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import (
    Booking,
    BookingStatus,
    BundlePurchase,
    CancelCause,
    CancelledBy,
    CreditStatus,
    Listing,
    MentorshipSession,
    ProposalStatus,
    RescheduleProposal,
    SessionStatus,
)
from models.bookings.bookings import ACCEPTED_OVERLAP, MENTEE_OVERLAP
from models.bookings.reschedules import MAX_PROPOSED_TIMES, ONE_OPEN_PROPOSAL, REQUEST
from workflows.actors import Actor
from workflows.bookings import limits as request_limits
from workflows.bookings.lifecycle import (
    BOOKINGS,
    PROPOSALS,
    BookingAction,
    ProposalAction,
    get_visible_booking,
    settle_found,
)
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, Conflict, Forbidden, InvalidInput, NotFound, add_or_conflict
from workflows.events import EventType, record
from workflows.payloads import BookingRescheduledPayload, booking_payload, proposal_payload
from workflows.people import NamedBooking, name_bookings
from workflows.roles import Role
from workflows.scheduling import checks
from workflows.scheduling import rules as scheduling
from workflows.scheduling.commitments import mentee_is_busy
from workflows.scheduling.hours import weekly_hours
from workflows.scheduling.teams import profiles
from workflows.sessions import lifecycle as sessions
from workflows.sessions.lifecycle import SESSIONS, SessionAction, emit_event

log = structlog.get_logger(__name__)

RESCHEDULED = "rescheduled"  # the reason an old session reads
MOVE_CONFLICTS = {
    ACCEPTED_OVERLAP: Conflict("this time overlaps another accepted booking of the mentor", reason="mentor_busy"),
    MENTEE_OVERLAP: Conflict("the mentee already has an accepted booking or a seat at this time", reason="mentee_busy")}


def _movable(booking: Booking, now: datetime) -> None:
    if booking.group_session_id is not None:
        raise BusinessRuleViolation("a seat in a group session is not moved: leave it and join another session")
    if booking.status != BookingStatus.ACCEPTED:
        raise BusinessRuleViolation("only an accepted booking can be moved; this one is {status}",
                                    words={"status": booking.status.value},
                                    current_status=booking.status.value)
    if booking.start_time <= now:
        raise BusinessRuleViolation("this booking has started: it can no longer be moved")
    limit = get_settings().max_reschedules_per_booking
    if booking.reschedule_count >= limit:
        raise Conflict("this booking has been moved {reschedule_count} times, the most allowed: cancel it and book "
                       "again",
                       words={"reschedule_count": booking.reschedule_count},
                       rule="max_reschedules", limit=limit, reason="moved_too_often")


def _check_time(db: Session, booking: Booking, listing: Listing, start: datetime, now: datetime, *, role: Role,
                settles: bool = False, proposing: bool = False) -> list[uuid.UUID]:
    """409 naming the rule when ``start`` is not free for this booking's mentor and mentee (its own time aside), as
    ``role`` may read it: the mentee is told a reason private to the mentor only as ``unavailable``, and the mentor
    the mentee's other bookings the same way; a time the mentee proposes must be one of the listing's slots. With
    ``settles``, the pending requests a move there will settle, locked (as an accept finds them)."""
    rules = scheduling.ListingRules.of(listing)
    scheduling.check_request_time(rules, start, now)
    end = start + (booking.end_time - booking.start_time)
    (mentor,) = profiles(db, [booking.mentor_profile_id])
    session_id = db.scalar(select(MentorshipSession.id).where(MentorshipSession.booking_id == booking.id))
    commitment = checks.Commitment(
        booking.mentor_profile_id, booking.listing_id, start, end, booking.buffer_before_minutes,
        booking.buffer_after_minutes, booking_id=booking.id, session_id=session_id,
        mentee_user_id=booking.mentee_user_id, step=rules.step if proposing and role == Role.MENTEE else None)
    if role == Role.MENTOR:
        clashes = checks.check(db, commitment, weekly=weekly_hours(mentor.availability), settles=settles)
    else:
        with scheduling.seen_by_others():
            clashes = checks.check(db, commitment, weekly=weekly_hours(mentor.availability), settles=settles)
    if mentee_is_busy(db, booking.mentee_user_id, start, end, other_than=booking.id):
        if role == Role.MENTOR:  # the mentee's other bookings are theirs
            raise scheduling.refused(scheduling.Rule.UNAVAILABLE, "the mentee is not available at that time")
        raise Conflict("you already have an accepted booking or a seat at that time", rule="mentee_busy")
    if booking.credit_status == CreditStatus.HELD and booking.bundle_purchase_id is not None:
        purchase = db.get_one(BundlePurchase, booking.bundle_purchase_id)
        if not purchase.valid_from <= start < purchase.valid_until:  # the credit moves with it: it must cover it
            raise Conflict("the bundle credit this booking is paid with covers sessions starting from {valid_from} "
                           "until {valid_until}",
                           words={"valid_from": purchase.valid_from.isoformat(),
                                  "valid_until": purchase.valid_until.isoformat()},
                           rule="bundle_validity", reason="bundle_not_valid_then")
    return clashes


def propose(db: Session, actor: Actor, booking_id: uuid.UUID, start_times: Sequence[datetime], *, message: str = "",
            now: datetime | None = None) -> RescheduleProposal:
    """A participant's proposal to move the booking to one of ``start_times`` (1-3, each free now)."""
    now = now or utcnow()
    booking, role = BOOKINGS.load_to_act(db, actor, booking_id)
    _movable(booking, now)
    times = sorted(set(start_times))
    if not 1 <= len(times) <= MAX_PROPOSED_TIMES:
        raise InvalidInput("propose 1 to {max_proposed_times} different times",
                           words={"max_proposed_times": MAX_PROPOSED_TIMES})
    if booking.start_time in times:
        raise InvalidInput("a proposed time must differ from the booking's")
    listing = db.get_one(Listing, booking.listing_id)
    for start in times:
        _check_time(db, booking, listing, start, now, role=role, proposing=True)
    proposal = RescheduleProposal(
        id=uuid.uuid4(), booking_id=booking.id, proposed_by=role.value, proposer_user_id=actor.user_id,
        start_times=times, message=message.strip(), status=ProposalStatus.OPEN,
        expires_at=min(times[0], booking.start_time))
    add_or_conflict(db, proposal, {ONE_OPEN_PROPOSAL: Conflict(
        "this booking already has an open proposal: answer or withdraw it first", reason="proposal_open")})
    record(db, EventType.RESCHEDULE_PROPOSED, proposal_payload(proposal, booking), actor=str(actor))
    log.info(EventType.RESCHEDULE_PROPOSED, proposal_id=str(proposal.id), booking_id=str(booking.id))
    return proposal


def request_reschedule(db: Session, actor: Actor, booking_id: uuid.UUID, *, reason: str, now: datetime | None = None
                       ) -> RescheduleProposal:
    """The mentor asks the mentee to choose another time: the mentee is told, with the listing's next free times, and
    picks one (accepted at once: ``accept`` with any free time) or cancels at no cost (``decline``). With no answer
    by ``RESCHEDULE_REQUEST_TTL_HOURS`` (never past the start), the mentor cancels it, at no cost to the mentee."""
    now = now or utcnow()
    booking, role = BOOKINGS.load_to_act(db, actor, booking_id)
    if role != Role.MENTOR:
        raise Forbidden("only the mentor can ask the mentee to choose another time")
    _movable(booking, now)
    ttl = timedelta(hours=get_settings().reschedule_request_ttl_hours)
    request = RescheduleProposal(
        id=uuid.uuid4(), booking_id=booking.id, proposed_by=Role.MENTOR.value, kind=REQUEST,
        proposer_user_id=actor.user_id, start_times=[], message=reason.strip(), status=ProposalStatus.OPEN,
        expires_at=min(now + ttl, booking.start_time))
    add_or_conflict(db, request, {ONE_OPEN_PROPOSAL: Conflict(
        "this booking already has an open proposal: answer or withdraw it first", reason="proposal_open")})
    record(db, EventType.RESCHEDULE_REQUESTED, proposal_payload(request, booking), actor=str(actor))
    return request


def _open(db: Session, actor: Actor, proposal_id: uuid.UUID, now: datetime
          ) -> tuple[RescheduleProposal, Booking, Role]:
    """The proposal and its booking (locked), and the actor's part in it; 404 for anyone not taking part, 400
    unless the proposal is still open."""
    proposal = db.get(RescheduleProposal, proposal_id, with_for_update=True, populate_existing=True)
    if proposal is None:
        raise NotFound("proposal not found")
    booking, role = BOOKINGS.load_to_act(db, actor, proposal.booking_id)
    if proposal.status == ProposalStatus.OPEN and proposal.expires_at <= now:
        _expire(db, proposal, booking, now)
    if proposal.status != ProposalStatus.OPEN:
        raise BusinessRuleViolation("this proposal is {status}",
                                    words={"status": proposal.status.value}, current_status=proposal.status.value)
    return proposal, booking, role


def _close(db: Session, proposal: RescheduleProposal, booking: Booking, action: ProposalAction, role: Role, *,
           actor: str, now: datetime) -> None:
    closed = PROPOSALS.apply(proposal, action, role)
    proposal.decided_at = now
    db.flush()
    assert closed.event is not None
    record(db, EventType(closed.event), proposal_payload(proposal, booking), actor=actor)


def _lock_session_of(db: Session, proposal_id: uuid.UUID) -> None:
    """The session of the proposal's booking, locked first: the order in which an accept and a cancellation take
    their locks (the session, then the proposal and the booking), so no two of them deadlock."""
    db.execute(select(MentorshipSession.id).join(RescheduleProposal, RescheduleProposal.booking_id
                                                 == MentorshipSession.booking_id)
               .where(RescheduleProposal.id == proposal_id).with_for_update(of=MentorshipSession))


def decline(db: Session, actor: Actor, proposal_id: uuid.UUID, *, now: datetime | None = None) -> RescheduleProposal:
    """The other participant turns the proposal down; the booking stays as it is. Declining the mentor's request
    to move it cancels it instead, at no cost to the mentee."""
    now = now or utcnow()
    _lock_session_of(db, proposal_id)
    proposal, booking, role = _open(db, actor, proposal_id, now)
    if role == Role(proposal.proposed_by):
        raise BusinessRuleViolation("you made this proposal: withdraw it instead")
    _close(db, proposal, booking, ProposalAction.DECLINE, role, actor=str(actor), now=now)
    if proposal.kind == REQUEST:  # the mentee would rather not move it: the booking ends, at no cost to them
        _end(db, booking, Role.MENTEE, str(actor), reason=CANCELLED_ON_REQUEST, now=now)
    return proposal


def withdraw(db: Session, actor: Actor, proposal_id: uuid.UUID, *, now: datetime | None = None) -> RescheduleProposal:
    """The proposer takes the proposal back."""
    now = now or utcnow()
    _lock_session_of(db, proposal_id)
    proposal, booking, role = _open(db, actor, proposal_id, now)
    if role != Role(proposal.proposed_by):
        raise BusinessRuleViolation("only who made the proposal can withdraw it: decline it instead")
    _close(db, proposal, booking, ProposalAction.WITHDRAW, role, actor=str(actor), now=now)
    return proposal


def accept(db: Session, actor: Actor, proposal_id: uuid.UUID, start_time: datetime, *,
           now: datetime | None = None) -> NamedBooking:
    """The other participant takes one of the proposed times (answering the mentor's request, the mentee takes any
    free time): the booking moves there; the new booking is the answer."""
    now = now or utcnow()
    booking_id = db.scalar(select(RescheduleProposal.booking_id).where(RescheduleProposal.id == proposal_id))
    if booking_id is None:
        raise NotFound("proposal not found")
    # The locks of a booking's accept, in its order: the mentee's requests in flight, then the mentor's schedule.
    request_limits.accept_turns(db, booking_id)
    session = db.scalars(select(MentorshipSession).where(MentorshipSession.booking_id == booking_id)
                         .with_for_update()).one_or_none()  # before the booking, as a cancellation takes them
    proposal, booking, role = _open(db, actor, proposal_id, now)
    db.refresh(booking, with_for_update=True)
    if session is None:  # made by the worker meanwhile (its insert waits for this lock, or was before it)
        session = db.scalars(select(MentorshipSession).where(MentorshipSession.booking_id == booking_id)
                             .with_for_update()).one_or_none()
    if role == Role(proposal.proposed_by):
        raise BusinessRuleViolation("the other participant accepts your proposal, not you")
    if start_time == booking.start_time:
        raise InvalidInput("choose a time other than the booking's")
    if proposal.kind != REQUEST and start_time not in proposal.start_times:
        raise InvalidInput("choose one of the proposed times", start_times=", ".join(
            t.isoformat() for t in proposal.start_times))
    _movable(booking, now)
    clashes = _check_time(db, booking, db.get_one(Listing, booking.listing_id), start_time, now, role=role,
                          settles=True, proposing=proposal.kind == REQUEST)  # a time of the mentee's own choosing
    moved = _move(db, booking, session, start_time, role=role, now=now)
    PROPOSALS.apply(proposal, ProposalAction.ACCEPT, role)
    proposal.chosen_start = start_time
    proposal.new_booking_id = moved.id
    proposal.decided_at = now
    db.flush()
    payload: BookingRescheduledPayload = {
        **booking_payload(moved), "rescheduled_from_booking_id": str(booking.id),
        "previous_start_time": booking.start_time.isoformat(), "previous_end_time": booking.end_time.isoformat(),
        "proposed_by": proposal.proposed_by, "accepted_by": role.value}
    record(db, EventType.BOOKING_RESCHEDULED, payload, actor=str(actor))
    log.info(EventType.BOOKING_RESCHEDULED, booking_id=str(moved.id), previous=str(booking.id))
    settle_found(db, clashes, now=now, mentee_user_id=moved.mentee_user_id)
    return name_bookings(db, [moved], sessions_made=False)[0]


def _move(db: Session, booking: Booking, session: MentorshipSession | None, start: datetime, *, role: Role,
          now: datetime) -> Booking:
    """End the old booking (and its session) and make the new one, in that order: the exclusion constraints
    never see both accepted."""
    BOOKINGS.apply(booking, BookingAction.RESCHEDULE, role)
    credit = booking.credit_status
    if credit == CreditStatus.HELD:
        booking.credit_status = CreditStatus.MOVED
    if session is not None and session.status == SessionStatus.SCHEDULED:
        cancelled = SESSIONS.apply(session, SessionAction.CANCEL, Role.SYSTEM)
        session.cancelled_at, session.cancelled_by, session.cancel_reason = now, CancelledBy.SYSTEM, RESCHEDULED
        session.cancel_cause = CancelCause.RESCHEDULE  # the meeting goes on at its new time
        session.cancel_late, session.cancel_fee_cents, session.credit_refunded = False, 0, False
        booking.cancel_reason = RESCHEDULED
        db.flush()
        emit_event(db, session, cancelled.event, Role.SYSTEM.value)
    db.flush()
    moved = Booking(
        id=uuid.uuid4(), listing_id=booking.listing_id, mentor_profile_id=booking.mentor_profile_id,
        mentee_user_id=booking.mentee_user_id, start_time=start,
        end_time=start + (booking.end_time - booking.start_time),
        status=BookingStatus.ACCEPTED, price_cents=booking.price_cents, currency=booking.currency, notes=booking.notes,
        decided_at=now, bundle_purchase_id=booking.bundle_purchase_id,
        credit_status=CreditStatus.HELD if credit == CreditStatus.HELD else CreditStatus.NONE,
        buffer_before_minutes=booking.buffer_before_minutes, buffer_after_minutes=booking.buffer_after_minutes,
        rescheduled_from_booking_id=booking.id, chain_booking_id=booking.chain_booking_id or booking.id,
        reschedule_count=booking.reschedule_count + 1, series_id=booking.series_id)
    add_or_conflict(db, moved, MOVE_CONFLICTS)
    return moved


def proposals_of(db: Session, actor: Actor, booking_id: uuid.UUID) -> list[RescheduleProposal]:
    """A booking's proposals, newest first (its participants and admins)."""
    get_visible_booking(db, actor, booking_id)
    return list(db.scalars(select(RescheduleProposal).where(RescheduleProposal.booking_id == booking_id)
                           .order_by(RescheduleProposal.created_at.desc(), RescheduleProposal.id)))


def get_proposal(db: Session, actor: Actor, proposal_id: uuid.UUID) -> RescheduleProposal:
    proposal = db.get(RescheduleProposal, proposal_id)
    if proposal is None:
        raise NotFound("proposal not found")
    get_visible_booking(db, actor, proposal.booking_id)
    return proposal


def expire_proposals(db: Session, *, now: datetime | None = None, limit: int = 500) -> int:
    """Open proposals past their time become ``expired`` (an unanswered request of the mentor's cancels its booking).
    Safe to run twice at once: each proposal is re-read under its lock."""
    now = now or utcnow()
    due = db.scalars(select(RescheduleProposal.id).where(RescheduleProposal.status == ProposalStatus.OPEN,
                                                         RescheduleProposal.expires_at <= now)
                     .order_by(RescheduleProposal.expires_at).limit(limit)).all()
    expired = 0
    for proposal_id in due:
        _lock_session_of(db, proposal_id)  # first, as everyone else takes it
        proposal = db.scalars(select(RescheduleProposal).where(
            RescheduleProposal.id == proposal_id, RescheduleProposal.status == ProposalStatus.OPEN)
            .with_for_update(skip_locked=True).execution_options(populate_existing=True)).one_or_none()
        if proposal is not None:  # else answered, or expired by another run, meanwhile
            _expire(db, proposal, db.get_one(Booking, proposal.booking_id), now)
            expired += 1
    return expired


# Why a booking ends when the mentor asked to move it and the mentee did not choose, or chose to cancel.
UNANSWERED = "the mentor asked to move it and no new time was chosen"
CANCELLED_ON_REQUEST = "the mentor asked to move it and the mentee cancelled"


def _expire(db: Session, proposal: RescheduleProposal, booking: Booking, now: datetime) -> None:
    """Close a proposal past its time; an unanswered request of the mentor's cancels the booking, as the mentor (who
    asked) would: told to both, counted as the mentor's cancellation."""
    _close(db, proposal, booking, ProposalAction.EXPIRE, Role.SYSTEM, actor=Role.SYSTEM.value, now=now)
    if proposal.kind == REQUEST:
        _end(db, booking, Role.MENTOR, str(Actor(proposal.proposer_user_id)), reason=UNANSWERED, now=now)


def _end(db: Session, booking: Booking, role: Role, actor: str, *, reason: str, now: datetime) -> None:
    """Cancel the booking's session (made now if the worker has not yet), never late: nobody pays."""
    if booking.status != BookingStatus.ACCEPTED:
        return
    session = db.scalars(select(MentorshipSession).where(MentorshipSession.booking_id == booking.id)
                         .with_for_update()).one_or_none() or sessions.create_session_from_booking(db, booking.id)
    if session is not None and session.status == SessionStatus.SCHEDULED:
        sessions.cancel_without_fee(db, session, role, actor, reason=reason, now=now)

