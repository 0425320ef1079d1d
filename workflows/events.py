"""Domain events: every event type once (:class:`EventType`), with the shapes its payload takes, and who an
event concerns.

A member of :class:`EventType` says all the service needs of its type: its name ``<aggregate>.<what happened>``
(the aggregate is the name's first part) and its payload's ``TypedDict`` (``workflows.payloads``), first the
one it is recorded with, then the other shapes it may take (a group session's). The outbox's registry, the
OpenAPI ``webhooks``, the live frames and docs/PRIMER.md's event table (a test holds it to the enum) are
derived from it; its handlers are declared in ``workflows/handlers.py``. Workflows record an event with one
call, ``record(db, EventType.SESSION_COMPLETED, session_payload(session), actor=...)``; handlers read an event
back with :func:`parse`.

One audience rule (:func:`participants`): an event concerns its mentor (by mentor profile) and its mentees: the
participants of a group session (``mentee_user_ids``), else the one ``mentee_user_id`` of the booking, session or
review; a programme's event concerns its coordinators (``coordinator_user_ids``, and those it took off,
``removed_user_ids``), who see it whole, and an enrolment's also the person it is of (``participant_user_id``); a
conversation's message concerns its people (``member_user_ids``) and no one else, admins included. What each of
them receives is :func:`view_for` their role: the mentor sees the payload whole; a mentee sees it without the
participant list, so the mentees of a group session never learn each other's ids.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import ColumnElement, false, or_
from sqlalchemy.orm import Session

import outbox
from models import OutboxEvent
from outbox import REGISTRY, EventSpec
from workflows.conversation_payloads import MEMBERS_KEY, AnnouncementPayload, MessagePayload, ReportPayload
from workflows.payloads import (
    COORDINATORS_KEY,
    FORMER_COORDINATORS_KEY,
    GROUP_KEY,
    MENTEE_KEY,
    MENTOR_KEY,
    PARTICIPANT_KEY,
    AttendanceDisputePayload,
    BookingPayload,
    BookingRescheduledPayload,
    BookingSeriesPayload,
    EventPayload,
    GroupSessionCancelledPayload,
    GroupSessionCheckInPayload,
    GroupSessionNoShowPayload,
    GroupSessionPayload,
    GroupSessionReminderPayload,
    RescheduleProposalPayload,
    ReviewPayload,
    SchedulePayload,
    SeatNoShowPayload,
    SeatReleasedPayload,
    SessionCancelledPayload,
    SessionCheckInPayload,
    SessionNoShowPayload,
    SessionPayload,
    SessionReminderPayload,
    WaitlistPayload,
    WebhookTestPayload,
)
from workflows.programme_payloads import (
    EnrolmentPayload,
    GoalPayload,
    MatchRunPayload,
    PairingPayload,
    PlanStepPayload,
    ProgrammeChangePayload,
    ProgrammeCoordinatorsPayload,
    ProgrammePayload,
)
from workflows.roles import Role

_SESSION = (SessionPayload, GroupSessionPayload)


class EventType(StrEnum):
    """Every event, once: ``<aggregate>.<what happened>``, then its payload's shapes, the recorded one first.
    The webhook test is sent, never recorded."""

    payloads: tuple[type, ...]

    def __new__(cls, value: str, *payloads: type) -> EventType:
        member = str.__new__(cls, value)
        member._value_ = value
        member.payloads = payloads
        return member

    @property
    def aggregate(self) -> str:
        """What the event is about: ``booking`` of ``booking.accepted``."""
        return self.value.partition(".")[0]

    @property
    def payload(self) -> type:
        """The shape the event is recorded with."""
        return self.payloads[0]

    BOOKING_REQUESTED = "booking.requested", BookingPayload
    BOOKING_ACCEPTED = "booking.accepted", BookingPayload
    BOOKING_DECLINED = "booking.declined", BookingPayload
    BOOKING_CANCELLED = "booking.cancelled", BookingPayload, SeatReleasedPayload  # a group seat given up
    BOOKING_EXPIRED = "booking.expired", BookingPayload
    SESSION_SCHEDULED = "session.scheduled", *_SESSION
    SESSION_STARTED = "session.started", *_SESSION
    SESSION_COMPLETED = "session.completed", *_SESSION
    SESSION_CANCELLED = "session.cancelled", SessionCancelledPayload, GroupSessionCancelledPayload
    SESSION_MISSED = "session.missed", *_SESSION
    SESSION_UPDATED = "session.updated", *_SESSION
    SESSION_REMINDER = "session.reminder", SessionReminderPayload, GroupSessionReminderPayload
    REVIEW_CREATED = "review.created", ReviewPayload
    SCHEDULE_CHANGED = "schedule.changed", SchedulePayload  # the schedule of the mentor profile `id`
    BOOKING_RESCHEDULED = "booking.rescheduled", BookingRescheduledPayload  # the new booking
    RESCHEDULE_PROPOSED = "reschedule.proposed", RescheduleProposalPayload
    RESCHEDULE_REQUESTED = "reschedule.requested", RescheduleProposalPayload
    RESCHEDULE_DECLINED = "reschedule.declined", RescheduleProposalPayload
    RESCHEDULE_WITHDRAWN = "reschedule.withdrawn", RescheduleProposalPayload
    RESCHEDULE_EXPIRED = "reschedule.expired", RescheduleProposalPayload
    SESSION_CHECKED_IN = "session.checked_in", SessionCheckInPayload, GroupSessionCheckInPayload
    SESSION_NO_SHOW = "session.no_show", SessionNoShowPayload, GroupSessionNoShowPayload
    BOOKING_NO_SHOW = "booking.no_show", SeatNoShowPayload  # a seat of a group session
    BOOKING_NO_SHOW_CONFIRMED = "booking.no_show_confirmed", SeatNoShowPayload
    ATTENDANCE_DISPUTED = "attendance.disputed", AttendanceDisputePayload
    ATTENDANCE_RESOLVED = "attendance.resolved", AttendanceDisputePayload
    BOOKING_SERIES_REQUESTED = "booking_series.requested", BookingSeriesPayload
    BOOKING_SERIES_ACCEPTED = "booking_series.accepted", BookingSeriesPayload
    BOOKING_SERIES_DECLINED = "booking_series.declined", BookingSeriesPayload
    BOOKING_SERIES_CANCELLED = "booking_series.cancelled", BookingSeriesPayload
    WAITLIST_OFFERED = "waitlist.offered", WaitlistPayload
    WAITLIST_PROMOTED = "waitlist.promoted", WaitlistPayload
    WAITLIST_EXPIRED = "waitlist.expired", WaitlistPayload
    PROGRAMME_CREATED = "programme.created", ProgrammePayload
    PROGRAMME_ENROLMENT_OPENED = "programme.enrolment_opened", ProgrammePayload
    PROGRAMME_STARTED = "programme.started", ProgrammePayload
    PROGRAMME_CLOSED = "programme.closed", ProgrammePayload
    PROGRAMME_COORDINATORS_CHANGED = "programme.coordinators_changed", ProgrammeCoordinatorsPayload
    PROGRAMME_SETTINGS_CHANGED = "programme.settings_changed", ProgrammeChangePayload
    PROGRAMME_MATCHING_CHANGED = "programme.matching_changed", ProgrammeChangePayload
    PROGRAMME_INTAKE_FORM_CHANGED = "programme.intake_form_changed", ProgrammeChangePayload
    PROGRAMME_PLAN_CHANGED = "programme.plan_changed", ProgrammeChangePayload
    PROGRAMME_PLAN_APPLIED = "programme.plan_applied", ProgrammeChangePayload  # to the pairings under way
    PROGRAMME_LIBRARY_CHANGED = "programme.library_changed", ProgrammeChangePayload  # a resource added, changed, gone
    ENROLMENT_JOINED = "enrolment.joined", EnrolmentPayload
    ENROLMENT_LEFT = "enrolment.left", EnrolmentPayload
    ENROLMENT_REMOVED = "enrolment.removed", EnrolmentPayload
    ENROLMENT_INTAKE_FINISHED = "enrolment.intake_finished", EnrolmentPayload  # a candidate for pairing from now
    ENROLMENT_INTAKE_ASKED = "enrolment.intake_asked", EnrolmentPayload  # asked to finish it (a mentor: their hours)
    PAIRING_PROPOSED = "pairing.proposed", PairingPayload
    PAIRING_ACTIVATED = "pairing.activated", PairingPayload
    PAIRING_PAUSED = "pairing.paused", PairingPayload
    PAIRING_RESUMED = "pairing.resumed", PairingPayload
    PAIRING_NOT_RESUMED = "pairing.not_resumed", PairingPayload  # its pause's day came and it could not go on
    PAIRING_ENDED = "pairing.ended", PairingPayload
    PAIRING_SURVEYED = "pairing.surveyed", PairingPayload  # one of the pair answered its closing survey
    GOAL_SET = "goal.set", GoalPayload
    GOAL_DONE = "goal.done", GoalPayload
    GOAL_DROPPED = "goal.dropped", GoalPayload
    GOAL_REOPENED = "goal.reopened", GoalPayload
    PLAN_STEP_DONE = "plan.step_done", PlanStepPayload
    PLAN_STEP_SKIPPED = "plan.step_skipped", PlanStepPayload
    PLAN_STEP_REOPENED = "plan.step_reopened", PlanStepPayload
    MATCH_RUN_REQUESTED = "match_run.requested", MatchRunPayload
    MATCH_RUN_PROGRESS = "match_run.progress", MatchRunPayload
    MATCH_RUN_COMPLETED = "match_run.completed", MatchRunPayload
    MATCH_RUN_FAILED = "match_run.failed", MatchRunPayload
    MATCH_RUN_CANCELLED = "match_run.cancelled", MatchRunPayload
    MESSAGE_CREATED = "message.created", MessagePayload
    MESSAGE_EDITED = "message.edited", MessagePayload
    MESSAGE_DELETED = "message.deleted", MessagePayload
    ANNOUNCEMENT_POSTED = "announcement.posted", AnnouncementPayload
    CONVERSATION_REPORTED = "conversation.reported", ReportPayload
    WEBHOOK_TEST = "webhook.test", WebhookTestPayload


def record(db: Session, event_type: EventType, payload: EventPayload, *, actor: str) -> OutboxEvent:
    """Record ``event_type`` about the aggregate ``payload["id"]``, with its handlers' rows, in the caller's
    transaction; refused if the payload is not of the type's shape."""
    return record_all(db, event_type, [payload], actor=actor)[0]


def record_all(db: Session, event_type: EventType, payloads: Sequence[EventPayload], *, actor: str
               ) -> list[OutboxEvent]:
    """:func:`record` for many aggregates at once, in one statement."""
    shape: Any = REGISTRY.spec_of(event_type).payload
    for payload in payloads:
        missing = shape.__required_keys__ - payload.keys()
        if missing:
            raise ValueError(f"{event_type} needs {', '.join(sorted(missing))} in its payload")
    return outbox.record_events(db, event_type, [(uuid.UUID(str(p["id"])), dict(p)) for p in payloads], actor=actor)


# --- reading: who an event concerns, and what each of them sees -------------------------------------


@dataclass(frozen=True)
class Participants:
    """The people an event concerns: its mentor, by mentor profile, and its mentees, by user."""

    mentor_profile_id: uuid.UUID | None
    mentee_user_ids: tuple[uuid.UUID, ...]
    coordinator_user_ids: tuple[uuid.UUID, ...] = ()
    participant_user_ids: tuple[uuid.UUID, ...] = ()  # the person a programme's enrolment is of; a conversation's

    def role_of(self, user_id: uuid.UUID, mentor_profile_id: uuid.UUID | None) -> Role | None:
        """The part this user (with this mentor profile, if any) takes in the event, or ``None``."""
        if mentor_profile_id is not None and mentor_profile_id == self.mentor_profile_id:
            return Role.MENTOR
        if user_id in self.coordinator_user_ids:
            return Role.COORDINATOR
        if user_id in self.participant_user_ids:
            return Role.PARTICIPANT
        return Role.MENTEE if user_id in self.mentee_user_ids else None

    @property
    def user_ids(self) -> tuple[uuid.UUID, ...]:
        """Everyone it concerns by user (the mentor aside, known by profile): its mentees, coordinators and
        participant."""
        return self.mentee_user_ids + self.coordinator_user_ids + self.participant_user_ids


def participants(payload: Mapping[str, Any]) -> Participants:
    """The one audience rule: the payload's mentor, and its group's participants or else its one mentee; a
    programme's coordinators."""
    mentor = payload.get(MENTOR_KEY)
    group = payload.get(GROUP_KEY)
    mentees = group if isinstance(group, list) else [payload[MENTEE_KEY]] if payload.get(MENTEE_KEY) else []
    coordinators = [*(payload.get(COORDINATORS_KEY) or []), *(payload.get(FORMER_COORDINATORS_KEY) or [])]
    member = payload.get(PARTICIPANT_KEY)
    people = [member] if member else list(payload.get(MEMBERS_KEY) or [])
    return Participants(uuid.UUID(str(mentor)) if mentor else None, tuple(uuid.UUID(str(m)) for m in mentees),
                        tuple(uuid.UUID(str(c)) for c in coordinators), tuple(uuid.UUID(str(p)) for p in people))


def view_for(payload: Mapping[str, Any], role: Role) -> dict[str, Any]:
    """The payload as someone taking part in ``role`` may see it: a mentee never sees the other mentees."""
    if role == Role.MENTEE:
        return {key: value for key, value in payload.items() if key != GROUP_KEY}
    return dict(payload)


def mentor_in(mentor_profile_ids: Sequence[uuid.UUID]) -> ColumnElement[bool]:
    """SQL over stored events: the event's mentor is one of these."""
    if not mentor_profile_ids:
        return false()
    mentor: ColumnElement[bool] = OutboxEvent.payload[MENTOR_KEY].astext.in_([str(m) for m in mentor_profile_ids])
    return mentor


def concerns_clause(user_id: uuid.UUID, mentor_profile_id: uuid.UUID | None) -> ColumnElement[bool]:
    """:func:`participants` as SQL over stored events: the user is one of the mentees, the mentor, or one of the
    coordinators."""
    me = str(user_id)
    return or_(
        OutboxEvent.payload[MENTEE_KEY].astext == me,
        OutboxEvent.payload[GROUP_KEY].contains([me]),
        OutboxEvent.payload[COORDINATORS_KEY].contains([me]),
        OutboxEvent.payload[FORMER_COORDINATORS_KEY].contains([me]),
        OutboxEvent.payload[PARTICIPANT_KEY].astext == me,
        OutboxEvent.payload[MEMBERS_KEY].contains([me]),
        mentor_in([mentor_profile_id] if mentor_profile_id else []),
    )


@dataclass(frozen=True)
class DomainEvent:
    """An outbox event read back: its type, its payload, and who it concerns."""

    id: uuid.UUID
    type: str
    payload: EventPayload
    participants: Participants

    def role_of(self, user_id: uuid.UUID, mentor_profile_id: uuid.UUID | None) -> Role | None:
        return self.participants.role_of(user_id, mentor_profile_id)

    def view_for(self, role: Role) -> dict[str, Any]:
        return view_for(self.payload, role)


def parse(event_id: uuid.UUID | str, event_type: str, payload: Mapping[str, Any]) -> DomainEvent:
    """An event from its outbox row's (or live message's) id, type and payload."""
    return DomainEvent(uuid.UUID(str(event_id)), event_type, cast(EventPayload, payload), participants(payload))


def from_outbox(event: OutboxEvent) -> DomainEvent:
    return parse(event.id, event.type, event.payload)


# --- the registry ----------------------------------------------------------------------------------

#: Every recorded event type (all but the webhook test), in the outbox's registry with its aggregate and
#: payload; its handlers are declared in ``workflows/handlers.py``.
RECORDED = tuple(event_type for event_type in EventType if event_type != EventType.WEBHOOK_TEST)
for _type in RECORDED:
    REGISTRY.event(EventSpec(_type, _type.aggregate, _type.payload, participants))


def of_aggregate(aggregate: str) -> frozenset[EventType]:
    """The recorded event types about one kind of aggregate (``booking``, ``session``, ``review``)."""
    return frozenset(t for t in RECORDED if t.aggregate == aggregate)


BOOKING_EVENTS = of_aggregate("booking")
SESSION_EVENTS = of_aggregate("session") - {EventType.SESSION_REMINDER}  # a reminder's payload is its own
REVIEW_EVENTS = of_aggregate("review")
SERIES_EVENTS = of_aggregate("booking_series")
PROGRAMME_EVENTS = of_aggregate("programme")
ENROLMENT_EVENTS = of_aggregate("enrolment")
PAIRING_EVENTS = of_aggregate("pairing")
GOAL_EVENTS = of_aggregate("goal")
PLAN_EVENTS = of_aggregate("plan")
MESSAGE_EVENTS = of_aggregate("message")
# Events only their own people see: no admin's endpoint receives them, unless the admin is one of those people.
PRIVATE_EVENTS = MESSAGE_EVENTS
