"""The payload of each domain event: a ``TypedDict`` per shape, as the outbox stores it, webhooks carry it and
live streams show it, and the functions that build each from its row. Which event takes which shape is said
once, by :class:`workflows.events.EventType`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import TypedDict, cast

from models import (
    AttendanceDispute,
    Booking,
    BookingStatus,
    CancelCause,
    CancelledBy,
    ListingKind,
    MentorshipSession,
    RescheduleProposal,
    Review,
    SessionStatus,
)
from workflows.conversation_payloads import AnnouncementPayload, MessagePayload, ReportPayload
from workflows.programme_payloads import ProgrammeEventPayload

# Where the payload names the people it concerns: read by participants() and by concerns_clause().
MENTOR_KEY = "mentor_profile_id"
MENTEE_KEY = "mentee_user_id"
GROUP_KEY = "mentee_user_ids"
COORDINATORS_KEY = "coordinator_user_ids"  # a programme's coordinators
FORMER_COORDINATORS_KEY = "removed_user_ids"  # those a change of its coordinators took off
PARTICIPANT_KEY = "participant_user_id"  # the person an enrolment is of


class MenteeTime(TypedDict):
    """What a payload about one mentee's time with a mentor names first: its own id, the listing, the mentor (by
    profile), the mentee (by user) and the time."""

    id: str
    listing_id: str
    mentor_profile_id: str
    mentee_user_id: str
    start_time: str
    end_time: str


class BookingPayload(MenteeTime):
    """``booking.*``: a request, a decision, a seat taken in a group session (``booking.accepted``).

    ``reason``: why a request was declined or withdrawn, or a booking cancelled, when a reason was given: the
    mentor's or mentee's words, or the system's when it settled a request whose time was taken ("the mentor
    accepted another request for this time", "you have a session at this time"); null otherwise.
    """

    status: str
    price_cents: int
    currency: str
    bundle_purchase_id: str | None
    group_session_id: str | None
    reason: str | None
    series_id: str | None  # an occurrence of a series (booking_series.*), answered with it
    instant: bool  # of a listing booked instantly: accepted by the system as it was requested


class BookingRescheduledPayload(BookingPayload):
    """``booking.rescheduled``: the new booking a move by agreement made, accepted, and the one it follows (its
    times before), who proposed the move and who accepted it (``mentor`` or ``mentee``)."""

    rescheduled_from_booking_id: str
    previous_start_time: str
    previous_end_time: str
    proposed_by: str
    accepted_by: str


class RescheduleProposalPayload(MenteeTime):
    """``reschedule.*``: a proposal to move a booking (``start_time``, ``end_time``: the booking's times now) to
    one of ``start_times`` (``kind`` ``times``), or the mentor's request that the mentee choose any free time
    (``request``, no ``start_times``); ``status`` ``open``, ``accepted``, ``declined``, ``withdrawn`` or
    ``expired``."""

    booking_id: str
    proposed_by: str
    kind: str
    start_times: list[str]
    message: str
    status: str
    expires_at: str
    chosen_start: str | None
    new_booking_id: str | None


class SeatReleasedPayload(BookingPayload):
    """``booking.cancelled`` when a mentee gives up their seat in a group session."""

    late: bool


class SessionPayload(TypedDict):
    """``session.*`` of an individual session; ``session.updated`` when the mentor changed its meeting URL
    or agenda (``meeting_url`` is the one the mentor set, null when the listing's location or the
    default applies)."""

    id: str
    kind: str
    booking_id: str | None
    listing_id: str
    mentor_profile_id: str
    mentee_user_id: str | None
    start_time: str
    end_time: str
    status: str
    meeting_url: str | None
    agenda: str | None


class GroupSessionPayload(SessionPayload):
    """``session.*`` of a group session: its seats and every participant, for routing and the mentor."""

    capacity: int | None
    seats_taken: int
    mentee_user_ids: list[str]


class Cancellation(TypedDict):
    """Who cancelled the session (``cancelled_by``: one of the pair, a programme's ``coordinator``, an ``admin``, or
    the ``system`` for a move by agreement) and why (``cause``: ``request``, ``pause``, ``end``, ``leave``,
    ``removal``, ``reschedule``; null when recorded before causes were)."""

    cancelled_by: CancelledBy
    cause: CancelCause | None


class SessionCancelledPayload(SessionPayload, Cancellation):
    """``session.cancelled`` of an individual session."""


class GroupSessionCancelledPayload(GroupSessionPayload, Cancellation):
    """``session.cancelled`` of a group session: its mentor (or an admin) cancelled it, every seat with it."""


class SessionReminderPayload(SessionPayload):
    """``session.reminder``: an individual session starts in ``offset_seconds`` (one of ``REMINDER_OFFSETS``)."""

    offset_seconds: int


class GroupSessionReminderPayload(GroupSessionPayload):
    """``session.reminder`` of a group session: its seats, every participant, and ``offset_seconds``."""

    offset_seconds: int


class CheckIn(TypedDict):
    """Who checked in (``mentor`` or ``mentee``: a group's mentee is not named to the others), and when."""

    checked_in_role: str
    checked_in_at: str


class SessionCheckInPayload(SessionPayload, CheckIn):
    """``session.checked_in``: a participant of an individual session checked in."""


class GroupSessionCheckInPayload(GroupSessionPayload, CheckIn):
    """``session.checked_in`` of a group session."""


class Absence(TypedDict):
    """Who was absent (``mentee``: the mentee, or every mentee of a group; ``mentor``), and who found it:
    the participant who came (``mentor`` or ``mentee``) or the ``system`` when the session's time was over."""

    absent: str
    reported_by: str


class SessionNoShowPayload(SessionPayload, Absence):
    """``session.no_show``: an individual session ended with someone absent (``status`` ``mentee_no_show`` or
    ``mentor_no_show``)."""


class GroupSessionNoShowPayload(GroupSessionPayload, Absence):
    """``session.no_show`` of a group session: its mentor came and no mentee did, or its mentor did not come."""


class SeatNoShowPayload(BookingPayload):
    """``booking.no_show``: a mentee was found absent from a group session that took place (``session_id``) without
    them (open to dispute: nothing moved yet); ``booking.no_show_confirmed``: a finding of the meeting's absence
    (``no_show``: ``mentee`` or ``mentor``) became final, and what it cost now (``no_show_fee_cents``) and the bundle
    credit's state (``credit_status``)."""

    session_id: str
    no_show: str
    no_show_fee_cents: int | None
    credit_status: str


class AttendanceDisputePayload(MenteeTime):
    """``attendance.*``: a participant disputes who was found absent from a meeting (``booking_id``: the booking,
    or the seat of a group session, ``session_id``); ``attribution_before`` is the finding disputed
    (``mentee`` or ``mentor``), ``attribution_after`` what an administrator set (``mentee``, ``mentor`` or
    ``none``: nobody was absent), null while ``status`` is ``open``."""

    session_id: str
    booking_id: str
    raised_by: str
    reason: str
    status: str
    attribution_before: str
    attribution_after: str | None
    resolution_note: str | None


class SeriesOccurrence(TypedDict):
    """One time of a series: its booking (null for a time left out), when, and its status or why it was left out."""

    booking_id: str | None
    start_time: str
    end_time: str
    status: str
    reason: str | None


class BookingSeriesPayload(MenteeTime):
    """``booking_series.*``: a mentee's request for a meeting every ``every_weeks`` weeks, answered once
    (``status`` ``requested``, ``accepted``, ``declined``, ``withdrawn`` or ``ended``). ``occurrences``: each
    time with its booking and status (``left_out`` for a time not requested: taken, outside the mentor's hours,
    dropped; at an accept, a time taken meanwhile is ``declined`` with its reason); ``start_time``, ``end_time``:
    the first occurrence's. ``booking_series.cancelled``: withdrawn by the mentee, or cancelled from
    ``cancelled_from`` on by ``cancelled_by`` (``mentor``, ``mentee``, or a programme's ``coordinator`` or an
    ``admin`` pausing or ending its pairing) with ``reason``."""

    every_weeks: int
    status: str
    occurrences: list[SeriesOccurrence]
    accepted_count: int
    skipped_count: int
    cancelled_from: str | None
    cancelled_by: CancelledBy | None
    reason: str | None
    instant: bool  # of a listing booked instantly: accepted by the system as it was requested


class WaitlistPayload(MenteeTime):
    """``waitlist.*``: a mentee's place in line for a full group session (``session_id``): a seat offered until
    ``offer_expires_at`` (``waitlist.offered``), a seat given (``waitlist.promoted``: ``booking_id``, the seat), or
    the place ended without one (``waitlist.expired``: the offer ran out, or ``reason``)."""

    session_id: str
    status: str
    take_at_once: bool
    offer_expires_at: str | None
    booking_id: str | None
    reason: str | None


class ReviewPayload(TypedDict):
    """``review.created``."""

    id: str
    session_id: str
    mentor_profile_id: str
    mentee_user_id: str
    rating: int
    comment: str


class SchedulePayload(TypedDict):
    """``schedule.changed``: a mentor changed their time off, date overrides, weekly availability or a listing's
    scheduling rules, or their own calendar's busy times changed (``change``: ``time_off``, ``date_overrides``,
    ``availability``, ``rules``, ``calendar``). ``start_time``
    and ``end_time`` bound the times it touched; null when it touches every time to come (or has no end)."""

    id: str
    mentor_profile_id: str
    change: str
    start_time: str | None
    end_time: str | None


class WebhookTestPayload(TypedDict):
    """``webhook.test``: sent by ``POST /webhook-endpoints/{id}/test``, never recorded."""

    endpoint_id: str
    message: str


EventPayload = (BookingPayload | SeatReleasedPayload | SessionPayload | GroupSessionPayload | ReviewPayload
                | SessionReminderPayload | GroupSessionReminderPayload | SchedulePayload | BookingRescheduledPayload
                | RescheduleProposalPayload | SessionCheckInPayload | GroupSessionCheckInPayload | SessionNoShowPayload
                | GroupSessionNoShowPayload | SessionCancelledPayload | GroupSessionCancelledPayload | SeatNoShowPayload
                | AttendanceDisputePayload | BookingSeriesPayload | WaitlistPayload | ProgrammeEventPayload
                | MessagePayload | AnnouncementPayload | ReportPayload)


# --- building -------------------------------------------------------------------------------------


def booking_payload(booking: Booking) -> BookingPayload:
    return {
        "id": str(booking.id),
        "listing_id": str(booking.listing_id),
        "mentor_profile_id": str(booking.mentor_profile_id),
        "mentee_user_id": str(booking.mentee_user_id),
        "start_time": booking.start_time.isoformat(),
        "end_time": booking.end_time.isoformat(),
        "status": booking.status,
        "price_cents": booking.price_cents,
        "currency": booking.currency,
        "bundle_purchase_id": str(booking.bundle_purchase_id) if booking.bundle_purchase_id else None,
        "group_session_id": str(booking.group_session_id) if booking.group_session_id else None,
        "reason": booking.decline_reason if booking.status == BookingStatus.DECLINED else booking.cancel_reason,
        "series_id": str(booking.series_id) if booking.series_id else None,
        "instant": booking.instant,
    }


def session_payload(session: MentorshipSession, participants: Sequence[uuid.UUID] = ()
                    ) -> SessionPayload | GroupSessionPayload:
    """An individual session's payload; a group session's adds its seats and ``participants``."""
    individual: SessionPayload = {
        "id": str(session.id),
        "kind": session.kind,
        "booking_id": str(session.booking_id) if session.booking_id else None,
        "listing_id": str(session.listing_id),
        "mentor_profile_id": str(session.mentor_profile_id),
        "mentee_user_id": str(session.mentee_user_id) if session.mentee_user_id else None,
        "start_time": session.start_time.isoformat(),
        "end_time": session.end_time.isoformat(),
        "status": session.status,
        "meeting_url": session.meeting_url,
        "agenda": session.agenda,
    }
    if session.status == SessionStatus.CANCELLED:
        cancellation: Cancellation = {"cancelled_by": CancelledBy(session.cancelled_by or CancelledBy.SYSTEM),
                                      "cause": session.cancel_cause}
        individual = cast(SessionPayload, {**individual, **cancellation})
    if session.kind != ListingKind.GROUP:
        return individual
    return {"capacity": session.capacity, "seats_taken": session.seats_taken,
            "mentee_user_ids": [str(p) for p in participants], **individual}


def proposal_payload(proposal: RescheduleProposal, booking: Booking) -> RescheduleProposalPayload:
    return {
        "id": str(proposal.id), "booking_id": str(booking.id), "listing_id": str(booking.listing_id),
        "mentor_profile_id": str(booking.mentor_profile_id), "mentee_user_id": str(booking.mentee_user_id),
        "start_time": booking.start_time.isoformat(), "end_time": booking.end_time.isoformat(),
        "proposed_by": proposal.proposed_by, "kind": proposal.kind,
        "start_times": [t.isoformat() for t in proposal.start_times],
        "message": proposal.message, "status": proposal.status.value, "expires_at": proposal.expires_at.isoformat(),
        "chosen_start": proposal.chosen_start.isoformat() if proposal.chosen_start else None,
        "new_booking_id": str(proposal.new_booking_id) if proposal.new_booking_id else None,
    }


def dispute_payload(dispute: AttendanceDispute, booking: Booking) -> AttendanceDisputePayload:
    after = dispute.attribution_after
    return {
        "id": str(dispute.id), "session_id": str(dispute.session_id), "booking_id": str(booking.id),
        "listing_id": str(booking.listing_id), "mentor_profile_id": str(booking.mentor_profile_id),
        "mentee_user_id": str(booking.mentee_user_id), "start_time": booking.start_time.isoformat(),
        "end_time": booking.end_time.isoformat(), "raised_by": dispute.raised_by, "reason": dispute.reason,
        "status": dispute.status.value, "attribution_before": dispute.attribution_before.value,
        "attribution_after": after.value if after is not None else None, "resolution_note": dispute.resolution_note,
    }


def review_payload(review: Review) -> ReviewPayload:
    return {"id": str(review.id), "session_id": str(review.session_id),
            "mentor_profile_id": str(review.mentor_profile_id), "mentee_user_id": str(review.mentee_user_id),
            "rating": review.rating, "comment": review.comment}


class ScheduleChange(StrEnum):
    """What a ``schedule.changed`` event changed."""

    TIME_OFF = "time_off"
    DATE_OVERRIDES = "date_overrides"
    AVAILABILITY = "availability"
    RULES = "rules"
    CALENDAR = "calendar"  # a sync read new busy times from the mentor's own calendar


def schedule_payload(mentor_profile_id: uuid.UUID, change: ScheduleChange, start: datetime | None = None,
                     end: datetime | None = None) -> SchedulePayload:
    """A change of a mentor's schedule touching [start, end) (``None``: from now on, or without end)."""
    return {"id": str(mentor_profile_id), "mentor_profile_id": str(mentor_profile_id), "change": change.value,
            "start_time": start.isoformat() if start else None, "end_time": end.isoformat() if end else None}
