"""Series: a meeting every week or two, requested and answered at once (``booking_series``).

A mentee asks for a series on an individual listing: a first start, every one or two weeks, a number of times (at
most ``MAX_OCCURRENCES``) or a last date. The times keep the first one's wall-clock time in the mentor's timezone: a
weekly 18:00 stays 18:00 across a change of summer time. Each time is checked as a single request is (every
scheduling rule, the mentee's own commitments, a pending request of theirs then): those that are not free are left
out with the reason, and ``series_requests.preview`` shows them all before anything is sent, so that the mentee
may drop times (``exclude``) or move them (``moves``). Each time requested is a draft booking of the series
(``bookings.series_id``), a bundle credit held for it when a bundle pays (the whole series refused, with the number
missing, when the bundle has too few). The pending-request caps count a series as one request.

The mentor answers the series once. An accept takes the locks a single accept takes (its mentee's turn, the
mentor's schedule), then accepts each draft in a savepoint of its own, exactly as a single accept does (the rules
under the lock, the exclusion constraints as the last word): a time taken meanwhile is declined by the system with
the reason and reported, never double-booked; every other is accepted with its ``booking.accepted``, whose session
the worker makes exactly once. All in one transaction.

Accepted, each occurrence is a booking like any other: cancelled or moved on its own, the policies applying to it.
:func:`cancel` ends the occurrences from a date on ("this and all following"), each by the cancellation policy; the
mentor ends a series early with a reason the same way.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Booking, BookingSeries, BookingStatus
from models.enums import CancelCause, CancelledBy, SeriesStatus, SessionStatus
from models.mentors.listings import MAX_BUFFER_MINUTES
from models.sessions.sessions import MentorshipSession
from workflows.actors import Actor
from workflows.bookings import lifecycle as bookings
from workflows.bookings import limits as request_limits
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, Conflict, InvalidInput
from workflows.events import EventType, record
from workflows.pagination import Page, paginate
from workflows.payloads import BookingSeriesPayload, SeriesOccurrence
from workflows.people import NamedSeries, Person, name_series
from workflows.roles import Role, participation, recorded_actor
from workflows.scheduling import checks
from workflows.sessions import lifecycle as sessions
from workflows.state_machine import StateMachine, move

log = structlog.get_logger(__name__)

LEFT_OUT = "left_out"
TAKEN_MEANWHILE = "taken before the series was accepted"
PASSED = "its time passed before the series was accepted"


# --- answering ----------------------------------------------------------------------------------------------


class SeriesAction(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    WITHDRAW = "withdraw"
    CANCEL = "cancel"  # this time and all following; others are left to come
    END = "end"  # cancelled from some date on, nothing left to come


# The series state machine (its events are recorded with every time's status, by the functions below). Its row is
# locked FOR NO KEY UPDATE: its bookings' updates (a time cancelled alone) check their foreign key to it with FOR KEY
# SHARE, and must not wait for, nor deadlock with, a cancellation of the series from before that time.
SERIES = StateMachine("booking series", BookingSeries, {
    # The system accepts a series of a listing booked instantly, in the transaction of its request.
    SeriesAction.ACCEPT: move(SeriesStatus.REQUESTED, SeriesStatus.ACCEPTED, Role.MENTOR, Role.SYSTEM,
                              event=EventType.BOOKING_SERIES_ACCEPTED),
    SeriesAction.DECLINE: move(SeriesStatus.REQUESTED, SeriesStatus.DECLINED, Role.MENTOR,
                               event=EventType.BOOKING_SERIES_DECLINED),
    SeriesAction.WITHDRAW: move(SeriesStatus.REQUESTED, SeriesStatus.WITHDRAWN, Role.MENTEE,
                                event=EventType.BOOKING_SERIES_CANCELLED),
    # A coordinator (or an admin) cancels a pairing's series when pausing or ending it (workflows.programmes.pairings).
    SeriesAction.CANCEL: move(SeriesStatus.ACCEPTED, SeriesStatus.ACCEPTED, Role.MENTOR, Role.MENTEE, Role.COORDINATOR,
                              Role.ADMIN, event=EventType.BOOKING_SERIES_CANCELLED),
    SeriesAction.END: move(SeriesStatus.ACCEPTED, SeriesStatus.ENDED, Role.MENTOR, Role.MENTEE, Role.COORDINATOR,
                           Role.ADMIN, event=EventType.BOOKING_SERIES_CANCELLED),
}, key_share=True)

get_series = SERIES.get_visible


def bookings_of(db: Session, series_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Booking]]:
    found: dict[uuid.UUID, list[Booking]] = {i: [] for i in series_ids}
    for booking in db.scalars(select(Booking).where(Booking.series_id.in_(series_ids))
                              .order_by(Booking.start_time, Booking.created_at)):
        assert booking.series_id is not None
        found[booking.series_id].append(booking)
    return found


def _times(db: Session, series: BookingSeries) -> list[Booking]:
    """The series' bookings, locked, in start order."""
    return list(db.scalars(select(Booking).where(Booking.series_id == series.id)
                           .order_by(Booking.start_time, Booking.created_at).with_for_update()))


def _drafts(db: Session, series: BookingSeries) -> list[Booking]:
    return [b for b in _times(db, series) if b.status == BookingStatus.DRAFT]


def first_pending(db: Session, series_id: uuid.UUID) -> uuid.UUID | None:
    """A pending time of the series (the mentor's calendar is read before an accept through it)."""
    return db.scalar(select(Booking.id).where(Booking.series_id == series_id, Booking.status == BookingStatus.DRAFT)
                     .order_by(Booking.start_time).limit(1))


def accept(db: Session, actor: Actor, series_id: uuid.UUID, *, now: datetime | None = None,
           fresh_since: datetime | None = None) -> NamedSeries:
    """The mentor accepts the series: each draft accepted as a single accept would be, in one transaction; a time
    taken meanwhile (or passed) declined by the system with the reason, and reported. 409 when none can be.

    With ``fresh_since``, the mentor's calendars are read in the statement that takes the turns, as a single accept
    reads them: :class:`~workflows.bookings.lifecycle.CalendarsStale` before anything is written when one was read
    before then (the caller has them read, and accepts again). The series comes named as answers show it, with its
    times and the names its turn read."""
    now = now or utcnow()
    series, role = SERIES.load_to_act(db, actor, series_id)
    SERIES.check(series, SeriesAction.ACCEPT, role)
    return _accept(db, series, actor=str(actor), role=role, now=now, fresh_since=fresh_since,
                   mentor_profile_id=actor.mentor_profile_id)


def accept_instantly(db: Session, series: BookingSeries, *, now: datetime) -> BookingSeries:
    """A series of a listing booked instantly, accepted by the system in the transaction of its request, as its
    mentor's accept would be (the request holds the locks an accept takes)."""
    SERIES.check(series, SeriesAction.ACCEPT, Role.SYSTEM)
    return _accept(db, series, actor=Role.SYSTEM.value, role=Role.SYSTEM, now=now).series


def _accept(db: Session, series: BookingSeries, *, actor: str, role: Role, now: datetime,
            fresh_since: datetime | None = None, mentor_profile_id: uuid.UUID | None = None) -> NamedSeries:
    first = first_pending(db, series.id)
    if first is None:
        raise Conflict("none of the series' times is pending any more", reason="series_not_pending")
    # The mentee's turn, then the mentor's schedule, as one accept takes them, before the drafts' rows: an accept of
    # another series of the mentor waits here, not holding drafts this one's settling would wait for.
    turn = request_limits.accept_turns(db, first, **({"fresh_since": fresh_since} if fresh_since else {}))
    if fresh_since is not None and turn is not None and turn.calendars_stale \
            and turn.mentor_profile_id == mentor_profile_id:
        raise bookings.CalendarsStale
    times = _times(db, series)
    drafts = [b for b in times if b.status == BookingStatus.DRAFT]
    skipped = [draft for draft in drafts if draft.start_time <= now]
    for draft in skipped:
        bookings.decline_in_series(db, draft, reason=PASSED, now=now)
    # Each time checked under the mentor's lock, as one accept's guard checks it, all in one statement: the times
    # are apart (weeks, unless the mentee moved one), so none can break a rule for another. Those that pass are
    # accepted together.
    checked: list[Booking] = []
    clashes: list[uuid.UUID] = []
    coming = [draft for draft in drafts if draft.start_time > now]
    if not _apart(coming, ZoneInfo(series.timezone)):  # a time moved near another: one by one, each seeing the last
        accepted = _one_by_one(db, coming, actor=actor, role=role, now=now, skipped=skipped)
        _accepted_series(db, actor, role, series, times=times, accepted=accepted, skipped=skipped, now=now)
        return _named(db, series, times, turn)
    judged = checks.check_accepts(db, [checks.Commitment(
        draft.mentor_profile_id, draft.listing_id, draft.start_time, draft.end_time, draft.buffer_before_minutes,
        draft.buffer_after_minutes, booking_id=draft.id, mentee_user_id=draft.mentee_user_id) for draft in coming])
    for draft, verdict in zip(coming, judged, strict=True):
        if isinstance(verdict, Conflict):
            bookings.decline_in_series(db, draft, reason=f"{TAKEN_MEANWHILE}: {verdict.message}", now=now)
            skipped.append(draft)
        else:
            clashes += verdict
            checked.append(draft)
    accepted = _accept_all(db, checked, actor=actor, role=role, now=now, skipped=skipped)
    if accepted is checked:  # together: the requests their times take are settled now (one by one, each did)
        bookings.settle_found(db, list(dict.fromkeys(clashes)), now=now, mentee_user_id=series.mentee_user_id)
    _accepted_series(db, actor, role, series, times=times, accepted=accepted, skipped=skipped, now=now)
    return _named(db, series, times, turn)


def _named(db: Session, series: BookingSeries, times: list[Booking], turn: request_limits.AcceptTurn | None
           ) -> NamedSeries:
    """The accepted series with the times it locked and the names its turn read (read again without a turn)."""
    if turn is None or turn.mentor_profile_id != series.mentor_profile_id:
        return name_series(db, [series], {series.id: times})[0]
    return NamedSeries(series, times, Person(series.mentor_profile_id, turn.mentor_name),
                       Person(series.mentee_user_id, turn.mentee_name))


def _apart(times: list[Booking], zone: ZoneInfo) -> bool:
    """Whether no time can break a rule for another: each in a local week of its own (day and week limits), and
    further apart than a session and the largest buffers (buffers)."""
    weeks = {b.start_time.astimezone(zone).isocalendar()[:2] for b in times}
    gaps = (later.start_time - earlier.end_time for earlier, later in itertools.pairwise(times))
    return len(weeks) == len(times) and all(gap > 2 * timedelta(minutes=MAX_BUFFER_MINUTES) for gap in gaps)


def _accepted_series(db: Session, actor: str, role: Role, series: BookingSeries, *, times: list[Booking],
                     accepted: list[Booking], skipped: list[Booking], now: datetime) -> None:
    if not accepted:
        raise Conflict("every time of this series was taken meanwhile: decline it, or wait for the mentee's next",
                       skipped=[d.start_time.isoformat() for d in skipped], reason="series_times_taken")
    SERIES.apply(series, SeriesAction.ACCEPT, role)
    series.decided_at = now
    db.flush()
    record(db, EventType.BOOKING_SERIES_ACCEPTED, series_payload(series, times), actor=actor)
    log.info(EventType.BOOKING_SERIES_ACCEPTED, series_id=str(series.id), accepted=len(accepted),
             skipped=len(skipped))


def _accept_all(db: Session, checked: list[Booking], *, actor: str, role: Role, now: datetime,
                skipped: list[Booking]) -> list[Booking]:
    """The checked times accepted in one statement (``checked`` itself is returned); when the exclusion constraints
    refuse one (a mentee's accept elsewhere, say), one by one, each in a savepoint of its own as a single accept
    (settling what its time takes), the refused declined and added to ``skipped``."""
    try:
        with db.begin_nested():
            bookings.accept_checked(db, checked, actor=actor, now=now, role=role)
    except Conflict:
        return _one_by_one(db, checked, actor=actor, role=role, now=now, skipped=skipped)
    return checked


def _one_by_one(db: Session, drafts: list[Booking], *, actor: str, role: Role, now: datetime,
                skipped: list[Booking]) -> list[Booking]:
    """Each time accepted as a single accept, in a savepoint of its own (its check sees the times accepted before
    it; it settles what its time takes), the refused declined and added to ``skipped``."""
    accepted = []
    for draft in drafts:
        db.refresh(draft)
        if draft.status != BookingStatus.DRAFT:  # settled by an earlier time's accept
            skipped.append(draft)
            continue
        try:
            with db.begin_nested():
                bookings.accept_in_series(db, draft, actor=actor, now=now, role=role)
        except (Conflict, BusinessRuleViolation) as refusal:
            db.refresh(draft)
            bookings.decline_in_series(db, draft, reason=f"{TAKEN_MEANWHILE}: {refusal.message}", now=now)
            skipped.append(draft)
        else:
            accepted.append(draft)
    return accepted


def decline(db: Session, actor: Actor, series_id: uuid.UUID, *, reason: str | None = None,
            now: datetime | None = None) -> BookingSeries:
    """The mentor declines the series: every draft declined, its credit returned."""
    now = now or utcnow()
    series, role = SERIES.load_to_act(db, actor, series_id)
    SERIES.apply(series, SeriesAction.DECLINE, role)
    for draft in _drafts(db, series):
        bookings.decline_in_series(db, draft, reason=reason, now=now, by=Role.MENTOR, actor=str(actor))
    series.decided_at, series.decline_reason = now, reason
    db.flush()
    record(db, EventType.BOOKING_SERIES_DECLINED, series_payload(series, bookings_of(db, [series.id])[series.id]),
           actor=str(actor))
    return series


def withdraw(db: Session, actor: Actor, series_id: uuid.UUID, *, reason: str | None = None,
             now: datetime | None = None, by: Role | None = None) -> BookingSeries:
    """The mentee withdraws the series before it is answered: every draft withdrawn, its credit returned. ``by``:
    who made the withdrawal the mentee's side acts out (a coordinator's pause of a pairing not yet accepted)."""
    now = now or utcnow()
    series, role = SERIES.load_to_act(db, actor, series_id)
    SERIES.apply(series, SeriesAction.WITHDRAW, role)
    recorded = recorded_actor(actor, by)
    for draft in _drafts(db, series):
        bookings.withdraw_in_series(db, draft, reason=reason, now=now, actor=recorded)
    series.cancelled_by, series.end_reason = CancelledBy((by or Role.MENTEE).value), reason
    db.flush()
    record(db, EventType.BOOKING_SERIES_CANCELLED, series_payload(series, bookings_of(db, [series.id])[series.id]),
           actor=recorded)
    return series


def cancel(db: Session, actor: Actor, series_id: uuid.UUID, *, from_time: datetime | None = None,
           reason: str | None = None, now: datetime | None = None, cause: CancelCause = CancelCause.REQUEST,
           by: Role | None = None) -> BookingSeries:
    """Cancel every occurrence still to come from ``from_time`` on ("this and all following"; now when not given),
    each by the cancellation policy as if cancelled alone (a mentee late for one pays that one's fee). The mentor
    gives a reason: that is how a mentor ends a series early. The series is ``ended`` once nothing is left to
    come. ``by`` and ``cause``: who made the cancellation the actor acts out, and why (a coordinator's pause acts on
    the mentee's side, and is recorded as the coordinator's)."""
    now = now or utcnow()
    series, part = SERIES.load_to_act(db, actor, series_id)
    part = by or part
    SERIES.check(series, SeriesAction.CANCEL, part)
    if part == Role.MENTOR and not (reason or "").strip():
        raise InvalidInput("tell the mentee why the series ends", field="reason")
    since = max(from_time or now, now)
    upcoming = list(db.scalars(select(Booking).where(
        Booking.series_id == series.id, Booking.status == BookingStatus.ACCEPTED, Booking.start_time >= since)
        .order_by(Booking.start_time)))
    if not upcoming:
        raise Conflict("no occurrence of this series is still to come from then", reason="series_nothing_to_come")
    why = reason or "the series was cancelled from this date on"
    # Every session's row first, in start order, then the bookings', each read afresh: a cancellation of one time
    # takes its session, its booking, then the bundle's purchase, so it never holds what this waits for while this
    # holds the purchase; a time cancelled alone meanwhile is seen cancelled, never cancelled (or refunded) twice.
    held = []
    for booking in upcoming:
        session = _session_of(db, booking.id)
        if session is None:
            sessions.create_session_from_booking(db, booking.id)  # accepted a moment ago: its session, once
            session = _session_of(db, booking.id)
        held.append(session)
    for booking, session in zip(upcoming, held, strict=True):
        db.refresh(booking, with_for_update=True)
        if session is not None and session.status == SessionStatus.SCHEDULED and \
                booking.status == BookingStatus.ACCEPTED:
            sessions.cancel_session(db, actor, session.id, reason=why, now=now, cause=cause, by=by)
    series.cancelled_from, series.cancelled_by, series.end_reason = since, CancelledBy(part.value), reason
    left = db.scalar(select(func.count()).select_from(Booking).where(
        Booking.series_id == series.id, Booking.status == BookingStatus.ACCEPTED, Booking.start_time > now))
    if not left:
        SERIES.apply(series, SeriesAction.END, part)
    db.flush()
    record(db, EventType.BOOKING_SERIES_CANCELLED, series_payload(series, bookings_of(db, [series.id])[series.id]),
           actor=recorded_actor(actor, by))
    log.info(EventType.BOOKING_SERIES_CANCELLED, series_id=str(series.id), cancelled=len(upcoming),
             by=part.value)
    return series


def _session_of(db: Session, booking_id: uuid.UUID) -> MentorshipSession | None:
    return db.scalar(select(MentorshipSession).where(MentorshipSession.booking_id == booking_id).with_for_update()
                     .execution_options(populate_existing=True))


def list_series(db: Session, actor: Actor, *, role: str | None, status: str | None, limit: int, cursor: str | None
                ) -> Page[BookingSeries]:
    """The actor's series, newest first, as mentee, mentor or both."""
    mine = participation(role, actor, BookingSeries.mentor_profile_id == actor.mentor_profile_id,
                         BookingSeries.mentee_user_id == actor.user_id)
    if mine is None:
        return Page([], None)
    query = select(BookingSeries).where(mine)
    if status is not None:
        query = query.where(BookingSeries.status == status)
    return paginate(db, query, BookingSeries.created_at, BookingSeries.id, limit=limit, cursor=cursor,
                    descending=True)


def skipped_at_accept(reason: str | None) -> bool:
    """Whether a time of a series was declined because it was taken, or passed, when the series was accepted (the
    series' event tells of it)."""
    return reason is not None and (reason.startswith(TAKEN_MEANWHILE) or reason == PASSED)


def series_payload(series: BookingSeries, occurrences: Sequence[Booking]) -> BookingSeriesPayload:
    times: list[SeriesOccurrence] = [
        {"booking_id": str(b.id), "start_time": b.start_time.isoformat(), "end_time": b.end_time.isoformat(),
         "status": b.status.value,
         "reason": b.decline_reason if b.status == BookingStatus.DECLINED else b.cancel_reason}
        for b in occurrences]
    times += [{"booking_id": None, "start_time": str(left["start_time"]), "end_time": str(left["end_time"]),
               "status": LEFT_OUT, "reason": left.get("reason")} for left in series.left_out]
    times.sort(key=lambda one: one["start_time"])
    first = min(occurrences, key=lambda b: b.start_time) if occurrences else None
    skipped = sum(1 for b in occurrences if b.status == BookingStatus.DECLINED and skipped_at_accept(b.decline_reason))
    return {
        "id": str(series.id), "listing_id": str(series.listing_id),
        "mentor_profile_id": str(series.mentor_profile_id), "mentee_user_id": str(series.mentee_user_id),
        "every_weeks": series.every_weeks, "status": series.status.value,
        "start_time": (first.start_time if first else series.first_start).isoformat(),
        "end_time": (first.end_time if first else series.first_start).isoformat(),
        "occurrences": times,
        "accepted_count": sum(1 for b in occurrences if b.status == BookingStatus.ACCEPTED),
        "skipped_count": skipped,
        "cancelled_from": series.cancelled_from.isoformat() if series.cancelled_from else None,
        "cancelled_by": series.cancelled_by,
        "reason": series.decline_reason if series.status == SeriesStatus.DECLINED else series.end_reason,
        "instant": any(b.instant for b in occurrences),
    }
