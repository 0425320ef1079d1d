"""Booking requests and the mentor's decisions.

A draft does not hold the slot; accepting does, and the database's exclusion
constraint is what refuses a second accepted booking over the same time.

Once a time is taken, the pending requests that could never be accepted any more are settled at
once by the system (:func:`settle_clashes`): the mentor's other requests for an overlapping time
are declined, and the accepted mentee's own overlapping requests withdrawn. An accept therefore
waits for the mentee's requests in flight and then for the mentor's schedule (the order a request
takes them in, so neither deadlocks the other), and a request re-checks the mentor under that lock:
no request slips in beside an accept in flight and stays pending.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import structlog
from sqlalchemy import false, or_, select, update
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import Booking, BookingStatus, CreditStatus, ProposalStatus, RescheduleProposal
from models.bookings.bookings import ACCEPTED_OVERLAP, MENTEE_OVERLAP
from models.mentors.listings import MAX_DURATION_MINUTES
from workflows.actors import Actor
from workflows.bookings import limits as request_limits
from workflows.bookings.bundles import release_credit
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, Conflict, constraint_errors
from workflows.events import EventType, record, record_all
from workflows.pagination import Page, paginate
from workflows.payloads import booking_payload, proposal_payload
from workflows.people import NamedBooking, Person, name_bookings
from workflows.roles import Role, participation
from workflows.scheduling import checks
from workflows.state_machine import StateMachine, move

log = structlog.get_logger(__name__)

class BookingAction(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    CANCEL = "cancel"
    EXPIRE = "expire"
    END_WITH_SESSION = "end_with_session"
    ACCEPT_CHECKED = "accept_checked"
    RESCHEDULE = "reschedule"


@dataclass(frozen=True)
class Decision:
    """What a decision on a booking is made with: its reason, and when. An accept's guard adds the pending
    requests it found clashing with the booking (locked), which the system settles once the accept is made."""

    now: datetime
    reason: str | None = None
    clashes: list[uuid.UUID] = field(default_factory=list)


LONGEST_BOOKING = timedelta(minutes=MAX_DURATION_MINUTES)
# Why the system settles a pending request: the reason the mentee and the mentor read.
ANOTHER_ACCEPTED = "the mentor accepted another request for this time"
GROUP_SCHEDULED = "the mentor scheduled a group session at this time"
MENTEE_BOOKED = "you have a session at this time"
AWAY = "the mentor is away at this time"
HOURS_CHANGED = "the mentor changed their hours for this date"
SETTLED_BY_SYSTEM = frozenset({ANOTHER_ACCEPTED, GROUP_SCHEDULED, MENTEE_BOOKED, AWAY, HOURS_CHANGED})

_ACCEPT_CONFLICTS = {
    ACCEPTED_OVERLAP: Conflict("this time overlaps another accepted booking of the mentor", reason="mentor_busy"),
    MENTEE_OVERLAP: Conflict("the mentee already has an accepted booking or a seat at this time", reason="mentee_busy"),
}


def _hold_the_time(db: Session, booking: Booking, decision: Decision) -> None:
    """Before an accept changes the status (so no autoflush meets the exclusion constraint early): the mentor's
    rules as they are now (``workflows.scheduling.rules``), and the pending requests the accept will settle. The
    mentor's schedule is locked already (``request_limits.accept_turns``, before the booking's row)."""
    decision.clashes.extend(checks.check(db, checks.Commitment(
        booking.mentor_profile_id, booking.listing_id, booking.start_time, booking.end_time,
        booking.buffer_before_minutes, booking.buffer_after_minutes, booking_id=booking.id,
        mentee_user_id=booking.mentee_user_id), at_accept=True, settles=True))


def _accepted(db: Session, booking: Booking, decision: Decision) -> None:
    if booking.start_time <= decision.now:
        raise BusinessRuleViolation("this booking's start time has passed")
    booking.decided_at = decision.now
    # No savepoint: a refused accept ends the transaction anyway (the caller rolls back), so
    # the flush that meets the exclusion constraint needs no way to carry on after it.
    with constraint_errors(_ACCEPT_CONFLICTS):
        db.flush()


def _declined(db: Session, booking: Booking, decision: Decision) -> None:
    booking.decline_reason = decision.reason
    booking.decided_at = decision.now
    release_credit(db, booking, refund=True)


def _withdrawn(db: Session, booking: Booking, decision: Decision) -> None:
    booking.cancel_reason = decision.reason
    release_credit(db, booking, refund=True)


def _expired(db: Session, booking: Booking, _decision: Decision) -> None:
    release_credit(db, booking, refund=True)


# The booking state machine: action -> (allowed from, goes to, who may do it, its event, what else it does).
BOOKINGS = StateMachine("booking", Booking, {
    # The system accepts a request of a listing booked instantly, in the transaction that made it (accept_in_series).
    BookingAction.ACCEPT: move(BookingStatus.DRAFT, BookingStatus.ACCEPTED, Role.MENTOR, Role.SYSTEM,
                               event=EventType.BOOKING_ACCEPTED, guard=_hold_the_time, effect=_accepted),
    # A series' times, which its accept checked together under the mentor's schedule lock (checks.check_accepts):
    # no guard or effect of their own; one statement moves them all (accept_checked).
    BookingAction.ACCEPT_CHECKED: move(BookingStatus.DRAFT, BookingStatus.ACCEPTED, Role.MENTOR, Role.SYSTEM,
                                       event=EventType.BOOKING_ACCEPTED),
    # The system declines a request, or withdraws it, once its time is taken (settle_clashes).
    BookingAction.DECLINE: move(BookingStatus.DRAFT, BookingStatus.DECLINED, Role.MENTOR, Role.SYSTEM,
                                event=EventType.BOOKING_DECLINED, effect=_declined),
    BookingAction.CANCEL: move(BookingStatus.DRAFT, BookingStatus.CANCELLED, Role.MENTEE, Role.SYSTEM,
                               event=EventType.BOOKING_CANCELLED, effect=_withdrawn),
    BookingAction.EXPIRE: move(BookingStatus.DRAFT, BookingStatus.EXPIRED, Role.SYSTEM,
                               event=EventType.BOOKING_EXPIRED, effect=_expired),
    # An accepted booking ends with its session's cancellation, whose event tells of it (workflows.sessions.lifecycle).
    BookingAction.END_WITH_SESSION: move(BookingStatus.ACCEPTED, BookingStatus.CANCELLED, Role.SYSTEM),
    # Moved by agreement: the participant accepting the other's proposal; ``booking.rescheduled`` is the new
    # booking's event (workflows.bookings.reschedules).
    BookingAction.RESCHEDULE: move(BookingStatus.ACCEPTED, BookingStatus.RESCHEDULED, Role.MENTOR, Role.MENTEE),
}, verbs={BookingAction.END_WITH_SESSION: "end with its session", BookingAction.ACCEPT_CHECKED: "accept"})




class ProposalAction(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    WITHDRAW = "withdraw"
    EXPIRE = "expire"


# A proposal to move a booking (``workflows.bookings.reschedules``): open, then answered by the other participant,
# withdrawn by its proposer (which of the two the answer comes from is the proposal's own rule), or closed by the
# system past its time or with its booking. An accept's event is the booking's (``booking.rescheduled``).
PROPOSALS = StateMachine("proposal", RescheduleProposal, {
    ProposalAction.ACCEPT: move(ProposalStatus.OPEN, ProposalStatus.ACCEPTED, Role.MENTOR, Role.MENTEE),
    ProposalAction.DECLINE: move(ProposalStatus.OPEN, ProposalStatus.DECLINED, Role.MENTOR, Role.MENTEE,
                                 event=EventType.RESCHEDULE_DECLINED),
    ProposalAction.WITHDRAW: move(ProposalStatus.OPEN, ProposalStatus.WITHDRAWN, Role.MENTOR, Role.MENTEE,
                                  event=EventType.RESCHEDULE_WITHDRAWN),
    ProposalAction.EXPIRE: move(ProposalStatus.OPEN, ProposalStatus.EXPIRED, Role.SYSTEM,
                                event=EventType.RESCHEDULE_EXPIRED),
})


get_visible_booking = BOOKINGS.get_visible


def _act(db: Session, booking: Booking, action: BookingAction, role: Role, *, actor: str, decision: Decision
         ) -> None:
    """Make ``action`` as the table says (its guard, the move, its effect), then record its event."""
    transition = BOOKINGS.act(db, booking, action, role, decision)
    db.flush()
    if transition.event is not None:
        record(db, EventType(transition.event), booking_payload(booking), actor=actor)
        log.info(transition.event, booking_id=str(booking.id), actor=actor)


def decide(db: Session, actor: Actor, booking_id: uuid.UUID, action: BookingAction, *, reason: str | None = None,
           now: datetime | None = None, turn: request_limits.AcceptTurn | None = None) -> NamedBooking:
    """The actor's ``action`` on one of their bookings (accept, decline, cancel), as the table allows.

    The booking is named as answers show it, with no session: none exists before the accept commits (the
    session is made from the committed event), so the answer does not look for one. An accept's names come with
    its turn (``turn``, when the caller took it already).
    """
    now = now or utcnow()
    if action is BookingAction.ACCEPT and turn is None:
        # Before the booking's row: the mentee's requests in flight, then the mentor's schedule, in the order
        # requests take them. Accepts of one mentee by different mentors share the first: two at overlapping
        # times may then deadlock, and PostgreSQL ends one (a 409 to send again; the other settles its request),
        # which is rarer and cheaper than making every accept of a mentee wait for the others.
        turn = request_limits.accept_turns(db, booking_id)  # no such booking: load_to_act answers 404
    booking, role = BOOKINGS.load_to_act(db, actor, booking_id)
    if booking.series_id is not None and booking.status == BookingStatus.DRAFT:
        raise Conflict("this request is one time of a series: answer the series (or withdraw it) as a whole",
                       series_id=booking.series_id, reason="part_of_series")
    if action is BookingAction.ACCEPT:
        _refuse_settled(booking)
    decision = Decision(now, reason)
    _act(db, booking, action, role, actor=str(actor), decision=decision)
    settle_found(db, decision.clashes, now=now, mentee_user_id=booking.mentee_user_id)
    if turn is not None and turn.mentor_profile_id == booking.mentor_profile_id:
        return NamedBooking(booking, None, Person(booking.mentor_profile_id, turn.mentor_name),
                            Person(booking.mentee_user_id, turn.mentee_name))
    return name_bookings(db, [booking], sessions_made=False)[0]


class CalendarsStale(Exception):  # a signal to the caller, not an error
    """The mentor's own calendars need reading before their accept decides: nothing was written, the caller ends the
    transaction, has them read (``workflows.calendars.sync.refresh_before_accept``) and accepts again."""


def accept_on_fresh_calendars(db: Session, actor: Actor, booking_id: uuid.UUID, *, fresh_since: datetime
                              ) -> tuple[NamedBooking, datetime | None]:
    """The mentor's accept, with when their calendars were last read (the oldest read; ``None`` with none connected,
    or one never read), in the accept's first statement: :class:`CalendarsStale` when one was read before
    ``fresh_since`` and is not backing off after a failure."""
    turn = request_limits.accept_turns(db, booking_id, fresh_since=fresh_since)
    if turn is not None and turn.calendars_stale and turn.mentor_profile_id == actor.mentor_profile_id:
        raise CalendarsStale
    accepted = decide(db, actor, booking_id, BookingAction.ACCEPT, turn=turn)
    return accepted, None if turn is None else turn.calendars_synced_at


def accept_in_series(db: Session, booking: Booking, *, actor: str, now: datetime, role: Role = Role.MENTOR) -> None:
    """Accept one draft of a series, or a request of a listing booked instantly (``role`` the system), as a single
    accept does (its guard under the mentor's schedule lock, which the caller holds, and the exclusion constraints),
    settling the requests its time takes; 409 when it is taken."""
    decision = Decision(now)
    _act(db, booking, BookingAction.ACCEPT, role, actor=actor, decision=decision)
    settle_found(db, decision.clashes, now=now, mentee_user_id=booking.mentee_user_id)


def accept_checked(db: Session, drafts: Sequence[Booking], *, actor: str, now: datetime, role: Role = Role.MENTOR
                   ) -> None:
    """Accept drafts whose rules the caller checked under the mentor's schedule lock (a series' times, weeks apart,
    none able to break a rule for another): the table's row ``accept_checked`` for each, one statement, one event
    statement. 409 when the exclusion constraints refuse one (the caller's savepoint undoes them all)."""
    for draft in drafts:
        BOOKINGS.check(draft, BookingAction.ACCEPT_CHECKED, role)
    sources, accepted = BOOKINGS.moved_by(BookingAction.ACCEPT_CHECKED)
    with constraint_errors(_ACCEPT_CONFLICTS):  # one statement; the rows in the session follow it
        db.execute(update(Booking).where(Booking.id.in_([d.id for d in drafts]), Booking.status.in_(sources))
                   .values(status=accepted, decided_at=now)
                   .execution_options(synchronize_session="evaluate"))
    event = BOOKINGS.transitions[BookingAction.ACCEPT_CHECKED].event
    assert event is not None
    record_all(db, EventType(event), [booking_payload(d) for d in drafts], actor=actor)


def decline_in_series(db: Session, booking: Booking, *, reason: str | None, now: datetime, by: Role = Role.SYSTEM,
                      actor: str = Role.SYSTEM.value) -> None:
    """Decline one draft of a series (the mentor's answer, or the system's for a time taken), its credit returned."""
    _act(db, booking, BookingAction.DECLINE, by, actor=actor, decision=Decision(now, reason))


def withdraw_in_series(db: Session, booking: Booking, *, reason: str | None, now: datetime, actor: str) -> None:
    _act(db, booking, BookingAction.CANCEL, Role.MENTEE, actor=actor, decision=Decision(now, reason))


def settle_found(db: Session, clashes: list[uuid.UUID], *, now: datetime, mentee_user_id: uuid.UUID) -> None:
    """Settle the pending requests an accept (or a move) found clashing with its time, and locked: the mentor's are
    declined, the mentee's own withdrawn."""
    if clashes:
        _settle(db, list(db.scalars(select(Booking).where(Booking.id.in_(clashes)).order_by(Booking.id)
                                    .execution_options(populate_existing=True))),
                now=now, reason=ANOTHER_ACCEPTED, mentee_user_id=mentee_user_id)


def _refuse_settled(booking: Booking) -> None:
    """409 for accepting a request the system settled because its time was taken, as for an overlapping accept."""
    why = booking.decline_reason if booking.status == BookingStatus.DECLINED else \
        booking.cancel_reason if booking.status == BookingStatus.CANCELLED else None
    if why in SETTLED_BY_SYSTEM:
        done = "declined" if booking.status == BookingStatus.DECLINED else "withdrawn"
        raise Conflict("this request was {done} by the system: {why}",
                       words={"done": done, "why": why}, current_status=booking.status.value,
                       reason="decided_by_system")


def settle_clashes(db: Session, *, start: datetime, end: datetime, now: datetime,
                   mentor_profile_id: uuid.UUID | None = None, reason: str = ANOTHER_ACCEPTED,
                   mentee_user_id: uuid.UUID | None = None) -> list[Booking]:
    """Settle the pending requests that can no longer be accepted now that [start, end) is taken.

    The mentor's requests for an overlapping time are declined by the system with ``reason``; the
    mentee's own (``mentee_user_id``: the one who took the time), to any mentor, are withdrawn with
    :data:`MENTEE_BOOKED`. Each is refunded its credit and tells its people, as a decision does. The
    caller holds the mentor's schedule lock (or the mentee's turn), so no new request overlaps meanwhile.
    """
    whose = or_(Booking.mentor_profile_id == mentor_profile_id if mentor_profile_id else false(),
                Booking.mentee_user_id == mentee_user_id if mentee_user_id else false())
    # A draft overlapping [start, end) starts in (start - the longest booking, end): the drafts' start index
    # reads that window only, however many drafts the mentor or the mentee holds.
    drafts = db.scalars(
        select(Booking).where(Booking.status == BookingStatus.DRAFT, whose,
                              Booking.start_time > start - LONGEST_BOOKING, Booking.start_time < end,
                              Booking.end_time > start)
        .order_by(Booking.id).with_for_update().execution_options(populate_existing=True)).all()
    # A row another transaction settled while this one waited for it no longer matches, and is skipped.
    _settle(db, list(drafts), now=now, reason=reason, mentee_user_id=mentee_user_id)
    return list(drafts)


def _settle(db: Session, drafts: list[Booking], *, now: datetime, reason: str, mentee_user_id: uuid.UUID | None
            ) -> None:
    """Withdraw the drafts of ``mentee_user_id`` (the one who took the time), decline the others with ``reason``."""
    for draft in drafts:
        action = BookingAction.CANCEL if draft.mentee_user_id == mentee_user_id else BookingAction.DECLINE
        why = MENTEE_BOOKED if action is BookingAction.CANCEL else reason
        _act(db, draft, action, Role.SYSTEM, actor=Role.SYSTEM.value, decision=Decision(now, why))


def decline_by_system(db: Session, drafts: list[Booking], *, now: datetime, reason: str) -> None:
    """Decline pending requests (locked by the caller) that a change of the mentor's rules made impossible."""
    _settle(db, drafts, now=now, reason=reason, mentee_user_id=None)


def accept_booking(db: Session, actor: Actor, booking_id: uuid.UUID) -> NamedBooking:
    return decide(db, actor, booking_id, BookingAction.ACCEPT)


def decline_booking(db: Session, actor: Actor, booking_id: uuid.UUID, reason: str | None = None) -> NamedBooking:
    return decide(db, actor, booking_id, BookingAction.DECLINE, reason=reason)


def cancel_booking(db: Session, actor: Actor, booking_id: uuid.UUID, reason: str | None = None) -> NamedBooking:
    return decide(db, actor, booking_id, BookingAction.CANCEL, reason=reason)


def late_fee(booking: Booking) -> int:
    """The late-cancellation fee of a booking: ``CANCELLATION_FEE_PERCENT`` of its price (a late cancellation's, or a
    mentee's absence's, when no bundle credit pays instead)."""
    return booking.price_cents * get_settings().cancellation_fee_percent // 100


def cancels_late(role: Role, start: datetime, now: datetime) -> bool:
    """Whether cancelling now is late: a mentee, less than ``CANCELLATION_WINDOW_HOURS`` before the start (a mentor
    never is)."""
    return role == Role.MENTEE and start - now < timedelta(hours=get_settings().cancellation_window_hours)


def end_with_session_cancellation(db: Session, booking: Booking, *, late: bool, reason: str) -> tuple[int, bool]:
    """End an accepted booking (or a seat) because its session is cancelled, or its mentee leaves.

    The cancellation policy (docs/PRIMER.md), in one place: a late mentee forfeits the bundle credit the booking holds,
    or else pays ``CANCELLATION_FEE_PERCENT`` of its price; anyone else is refunded. Returns
    ``(fee_cents, credit_refunded)``, also recorded on the booking.
    """
    fee, refunded = 0, False
    if booking.credit_status == CreditStatus.HELD:
        refunded = release_credit(db, booking, refund=not late)
    elif late:
        fee = late_fee(booking)
    BOOKINGS.apply(booking, BookingAction.END_WITH_SESSION, Role.SYSTEM)
    _close_proposals(db, booking)
    booking.cancel_reason = reason
    booking.cancel_late = late
    booking.cancel_fee_cents = fee
    return fee, refunded


def _close_proposals(db: Session, booking: Booking) -> None:
    """A booking that ends leaves nothing to move: its open proposal is no longer open (``reschedule.expired``)."""
    open_, _ = PROPOSALS.moved_by(ProposalAction.EXPIRE)
    for proposal in db.scalars(select(RescheduleProposal).where(
            RescheduleProposal.booking_id == booking.id, RescheduleProposal.status.in_(open_))
            .with_for_update()):
        expiry = PROPOSALS.apply(proposal, ProposalAction.EXPIRE, Role.SYSTEM)
        proposal.decided_at = utcnow()
        db.flush()
        assert expiry.event is not None
        record(db, EventType(expiry.event), proposal_payload(proposal, booking), actor=Role.SYSTEM.value)


def expire_stale_drafts(db: Session, *, now: datetime | None = None, limit: int = 500) -> int:
    """Drafts whose start has passed become ``expired``. Safe to run twice at once (SKIP LOCKED)."""
    now = now or utcnow()
    drafts = db.execute(
        select(Booking)
        .where(Booking.status == BookingStatus.DRAFT, Booking.start_time <= now)
        .order_by(Booking.start_time)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).scalars().all()
    for booking in drafts:
        _act(db, booking, BookingAction.EXPIRE, Role.SYSTEM, actor=Role.SYSTEM.value, decision=Decision(now))
    return len(drafts)


def list_bookings(
    db: Session, actor: Actor, *, role: str | None, status: str | None, limit: int, cursor: str | None
) -> Page[Booking]:
    """The actor's bookings, newest first, as mentee, mentor or both."""
    mine = participation(role, actor, Booking.mentor_profile_id == actor.mentor_profile_id,
                         Booking.mentee_user_id == actor.user_id)
    if mine is None:
        return Page(items=[], next_cursor=None)
    query = select(Booking).where(mine)
    if status:
        query = query.where(Booking.status == BookingStatus(status))
    return paginate(db, query, Booking.created_at, Booking.id, limit=limit, cursor=cursor, descending=True)
