"""Every webhook event type we send, through the real fan-out and delivery, matches its schema in our
own OpenAPI document; and a receiver verifies it as docs/integrating.md shows, with the ``standardwebhooks`` package."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from celery import Celery
from flask.testing import FlaskClient
from jsonschema_rs import Draft202012Validator
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook

from infra.config import get_settings
from models import (
    Announcement,
    AttendanceDispute,
    Audience,
    Booking,
    BookingSeries,
    BookingStatus,
    Conversation,
    ConversationKind,
    DisputeStatus,
    GoalStatus,
    ListingKind,
    MatchRun,
    MatchRunStatus,
    MentorshipSession,
    Message,
    NoShow,
    OutboxEvent,
    Pairing,
    PairingGoal,
    PairingStatus,
    PairingStep,
    ParticipantRole,
    ParticipantStatus,
    Programme,
    ProgrammeParticipant,
    ProgrammeStatus,
    RescheduleProposal,
    Review,
    SessionStatus,
    StepAnchor,
    StepStatus,
    WaitlistEntry,
    WaitlistStatus,
)
from tests.concurrency import wait_until
from tests.factories.accounts import UserFactory
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory
from tests.webhook_receiver import Receiver, admin, endpoint
from tests.workers_fixtures import StartWorker
from workflows import events, payloads
from workflows.actors import Actor
from workflows.bookings import reschedules, series
from workflows.conversation_payloads import ReportPayload
from workflows.conversations import announcements
from workflows.conversations import messages as conversation_messages
from workflows.matching import lifecycle as match_run_lifecycle
from workflows.programmes import enrolment, goals, pairings, plan_steps
from workflows.programmes import lifecycle as programme_lifecycle
from workflows.sessions import waitlists
from workflows.webhooks import endpoints


def receive(body: bytes, headers: dict[str, str], secret: str) -> dict[str, Any]:
    """docs/integrating.md's Python receiver: the verified payload, or ``WebhookVerificationError``."""
    return Webhook(secret).verify(body, headers)  # type: ignore[no-any-return]


def _series_and_waitlist_events(seed: Session, accepted: Booking, group: MentorshipSession, now: datetime
                                ) -> list[OutboxEvent]:
    """A series' four events (a time requested, one left out) and a place in line's three, for the group session."""
    recorded = []
    series_row = BookingSeries(id=uuid.uuid4(), listing_id=accepted.listing_id,
                               mentor_profile_id=accepted.mentor_profile_id, mentee_user_id=UserFactory().id,
                               every_weeks=1, first_start=now + timedelta(days=7), occurrences=2, timezone="UTC",
                               left_out=[{"start_time": (now + timedelta(days=14)).isoformat(),
                                          "end_time": (now + timedelta(days=14, hours=1)).isoformat(),
                                          "reason": "the mentor is away then", "rule": "time_off"}])
    seed.add(series_row)
    seed.flush()
    time_of_series = BookingFactory(listing=accepted.listing, mentee_user_id=series_row.mentee_user_id,
                                    series_id=series_row.id, start_time=now + timedelta(days=7))
    for event_type in sorted(events.SERIES_EVENTS):
        recorded.append(events.record(seed, event_type, series.series_payload(series_row, [time_of_series]),
                                      actor="mentee"))
    # A place in line for the group session: offered, promoted, expired.
    entry = WaitlistEntry(id=uuid.uuid4(), session_id=group.id, user_id=UserFactory().id,
                          status=WaitlistStatus.OFFERED, offer_expires_at=now + timedelta(hours=2))
    seed.add(entry)
    seed.flush()
    for event_type in sorted(events.of_aggregate("waitlist")):
        recorded.append(events.record(seed, event_type, waitlists.payload(entry, group), actor="system"))
    return recorded


def _every_event(seed: Session) -> tuple[list[OutboxEvent], uuid.UUID]:
    """One event of each type we send, built from real rows by the workflows' own constructors, plus
    the group-session and seat-release shapes. Returns the events and a group participant's user id."""
    now = datetime.now(UTC)
    recorded = []
    for event_type in sorted(events.BOOKING_EVENTS - {events.EventType.BOOKING_RESCHEDULED,
                                                      events.EventType.BOOKING_NO_SHOW,
                                                      events.EventType.BOOKING_NO_SHOW_CONFIRMED}):
        booking = BookingFactory(status=BookingStatus.ACCEPTED)
        recorded.append(events.record(seed, event_type, payloads.booking_payload(booking), actor="mentee"))
    before = BookingFactory(status=BookingStatus.RESCHEDULED)
    after = BookingFactory(status=BookingStatus.ACCEPTED, listing=before.listing, mentee_user_id=before.mentee_user_id,
                           start_time=before.start_time + timedelta(days=1))
    moved: payloads.BookingRescheduledPayload = {
        **payloads.booking_payload(after), "rescheduled_from_booking_id": str(before.id),
        "previous_start_time": before.start_time.isoformat(), "previous_end_time": before.end_time.isoformat(),
        "proposed_by": "mentee", "accepted_by": "mentor"}
    recorded.append(events.record(seed, events.EventType.BOOKING_RESCHEDULED, moved, actor="mentor"))
    proposal = RescheduleProposal(id=uuid.uuid4(), booking_id=after.id, proposed_by="mentor",
                                  proposer_user_id=after.listing.mentor_profile.user_id,
                                  start_times=[after.start_time + timedelta(days=1)], message="",
                                  expires_at=after.start_time)
    seed.add(proposal)
    seed.flush()
    for event_type in sorted(events.of_aggregate("reschedule")):
        recorded.append(events.record(seed, event_type, reschedules.proposal_payload(proposal, after), actor="mentor"))

    accepted = BookingFactory(status=BookingStatus.ACCEPTED)
    individual = MentorshipSession(
        id=uuid.uuid4(), kind=ListingKind.INDIVIDUAL, booking_id=accepted.id, listing_id=accepted.listing_id,
        mentor_profile_id=accepted.mentor_profile_id, mentee_user_id=accepted.mentee_user_id,
        start_time=accepted.start_time, end_time=accepted.end_time, status=SessionStatus.SCHEDULED)
    group_listing = ListingFactory(kind=ListingKind.GROUP.value, capacity=5)
    seated = [UserFactory(), UserFactory()]
    group = MentorshipSession(
        id=uuid.uuid4(), kind=ListingKind.GROUP, listing_id=group_listing.id,
        mentor_profile_id=group_listing.mentor_profile_id, start_time=now + timedelta(days=3),
        end_time=now + timedelta(days=3, hours=1), status=SessionStatus.SCHEDULED, capacity=5, seats_taken=2)
    seed.add_all([individual, group])
    seed.flush()
    more = {events.EventType.SESSION_CHECKED_IN: {"checked_in_role": "mentee", "checked_in_at": now.isoformat()},
            events.EventType.SESSION_NO_SHOW: {"absent": "mentor", "reported_by": "mentee"},
            events.EventType.SESSION_CANCELLED: {"cancelled_by": "coordinator", "cause": "pause"}}
    for event_type in sorted(events.SESSION_EVENTS):
        extra = more.get(event_type, {})
        recorded.append(events.record(seed, event_type, cast(payloads.EventPayload, {
            **payloads.session_payload(individual), **extra}), actor="system"))
        recorded.append(events.record(seed, event_type, cast(payloads.EventPayload, {
            **payloads.session_payload(group, [u.id for u in seated]), **extra}), actor="system"))
    for session, offset, participants in ((individual, 3600, []), (group, 86400, [u.id for u in seated])):
        reminder: payloads.SessionReminderPayload = {**payloads.session_payload(session, participants),
                                                   "offset_seconds": offset}
        recorded.append(events.record(seed, events.EventType.SESSION_REMINDER, reminder, actor="system"))
    seat = Booking(
        id=uuid.uuid4(), listing_id=group_listing.id, mentor_profile_id=group_listing.mentor_profile_id,
        mentee_user_id=seated[0].id, start_time=group.start_time, end_time=group.end_time,
        status=BookingStatus.CANCELLED, price_cents=100, currency="USD", group_session_id=group.id)
    seed.add(seat)
    seed.flush()
    released: payloads.SeatReleasedPayload = {**payloads.booking_payload(seat), "late": True}
    recorded.append(events.record(seed, events.EventType.BOOKING_CANCELLED, released, actor="mentee"))
    absent: payloads.SeatNoShowPayload = {**payloads.booking_payload(seat), "session_id": str(group.id),
                                        "no_show": "mentee", "no_show_fee_cents": 50, "credit_status": "none"}
    recorded.append(events.record(seed, events.EventType.BOOKING_NO_SHOW, absent, actor="system"))
    recorded.append(events.record(seed, events.EventType.BOOKING_NO_SHOW_CONFIRMED,
                                  {**absent, "no_show_fee_cents": 2500, "credit_status": "none"}, actor="system"))
    accepted.no_show = NoShow.MENTOR
    dispute = AttendanceDispute(id=uuid.uuid4(), booking_id=accepted.id, session_id=individual.id, raised_by="mentor",
                                raised_by_user_id=accepted.listing.mentor_profile.user_id, reason="I was there",
                                attribution_before=NoShow.MENTOR)
    seed.add(dispute)
    seed.flush()
    recorded.append(events.record(seed, events.EventType.ATTENDANCE_DISPUTED,
                                  payloads.dispute_payload(dispute, accepted), actor="mentor"))
    dispute.status, dispute.attribution_after, dispute.resolved_at = DisputeStatus.RESOLVED, NoShow.NONE, now
    dispute.resolution_note = "Both joined."
    recorded.append(events.record(seed, events.EventType.ATTENDANCE_RESOLVED,
                                  payloads.dispute_payload(dispute, accepted), actor="admin"))

    review = Review(id=uuid.uuid4(), session_id=individual.id, mentor_profile_id=individual.mentor_profile_id,
                    mentee_user_id=accepted.mentee_user_id, rating=5, comment="Clear and useful.")
    seed.add(review)
    seed.flush()
    recorded.append(events.record(seed, events.EventType.REVIEW_CREATED, payloads.review_payload(review),
                                  actor="mentee"))
    recorded += _series_and_waitlist_events(seed, accepted, group, now)
    recorded += [*_programme_events(seed, seated[0].id, group_listing.mentor_profile_id, now),
                 *_message_events(seed, seated[1].id, group_listing.mentor_profile.user_id)]
    for start, end in ((now, now + timedelta(days=7)), (now, None), (None, None)):  # a period, open-ended, everything
        recorded.append(events.record(seed, events.EventType.SCHEDULE_CHANGED, payloads.schedule_payload(
            group_listing.mentor_profile_id, payloads.ScheduleChange.TIME_OFF, start, end), actor="mentor"))
    seed.commit()
    return recorded, seated[1].id


def _message_events(seed: Session, mentee: uuid.UUID, mentor: uuid.UUID) -> list[OutboxEvent]:
    """A message written, edited and deleted in the conversation of a mentee and a mentor (their endpoints only); a
    notice to everyone; a conversation reported."""
    first, second = sorted((mentee, mentor))
    conversation = Conversation(id=uuid.uuid4(), kind=ConversationKind.PAIR, first_user_id=first,
                                second_user_id=second, last_seq=1)
    message = Message(id=uuid.uuid4(), conversation_id=conversation.id, seq=1, sender_user_id=mentee, body="Hello",
                      created_at=datetime.now(UTC))
    seed.add_all([conversation, message])
    seed.flush()
    recorded = []
    for event_type in (events.EventType.MESSAGE_CREATED, events.EventType.MESSAGE_EDITED,
                       events.EventType.MESSAGE_DELETED):
        if event_type == events.EventType.MESSAGE_EDITED:
            message.edited_at = datetime.now(UTC)
        if event_type == events.EventType.MESSAGE_DELETED:
            message.body, message.deleted_at = None, datetime.now(UTC)
        recorded.append(events.record(seed, event_type, conversation_messages.message_payload(
            conversation, message, [first, second]), actor=f"user:{mentee}"))
    notice = Announcement(id=uuid.uuid4(), programme_id=None, author_user_id=mentor, audience=Audience.EVERYONE,
                          title="Maintenance", body="On Sunday", created_at=datetime.now(UTC))
    seed.add(notice)
    seed.flush()
    recorded.append(events.record(seed, events.EventType.ANNOUNCEMENT_POSTED, announcements.payload(notice, []),
                                  actor=f"admin:{mentor}"))
    reported: ReportPayload = {"id": str(uuid.uuid4()), "conversation_id": str(conversation.id), "message_id": None,
                               "programme_id": None, "reason": "spam", "reporter_user_id": str(mentee),
                               "created_at": datetime.now(UTC).isoformat(), "coordinator_user_ids": []}
    recorded.append(events.record(seed, events.EventType.CONVERSATION_REPORTED, reported, actor=f"user:{mentee}"))
    return recorded


# A programme's changes say what changed, by name.
CHANGES = {events.EventType.PROGRAMME_SETTINGS_CHANGED, events.EventType.PROGRAMME_MATCHING_CHANGED,
           events.EventType.PROGRAMME_INTAKE_FORM_CHANGED, events.EventType.PROGRAMME_PLAN_CHANGED,
           events.EventType.PROGRAMME_PLAN_APPLIED, events.EventType.PROGRAMME_LIBRARY_CHANGED}


def _programme_events(seed: Session, coordinator: uuid.UUID, mentor_profile: uuid.UUID, now: datetime
                      ) -> list[OutboxEvent]:
    """Every programme event, of a cohort with dates and of an ongoing programme."""
    recorded = []
    for starts_on, ends_on in ((now.date(), now.date() + timedelta(days=84)), (None, None)):
        programme = Programme(id=uuid.uuid4(), name="Spring cohort", status=ProgrammeStatus.RUNNING,
                              starts_on=starts_on, ends_on=ends_on)
        payload = programme_lifecycle.programme_payload(programme, [coordinator])
        for event_type in sorted(events.PROGRAMME_EVENTS):
            more: dict[str, object] = \
                {"added_user_ids": [str(coordinator)], "removed_user_ids": [str(uuid.uuid4())]} \
                if event_type == events.EventType.PROGRAMME_COORDINATORS_CHANGED else \
                {"changed": ["name", "intake_form:mentor"]} if event_type in CHANGES else {}
            recorded.append(events.record(seed, event_type, cast(payloads.EventPayload, {**payload, **more}),
                                          actor="admin"))
        # Its enrolments: a mentor with a capacity who came by a link, a mentee by an invitation, one who left; a
        # mentor's intake finished, and one asked for their hours.
        for event_type, role, capacity, via in (
                (events.EventType.ENROLMENT_JOINED, ParticipantRole.MENTOR, 3, enrolment.Via.LINK),
                (events.EventType.ENROLMENT_JOINED, ParticipantRole.MENTEE, None, enrolment.Via.INVITATION),
                (events.EventType.ENROLMENT_LEFT, ParticipantRole.MENTEE, None, None),
                (events.EventType.ENROLMENT_REMOVED, ParticipantRole.MENTOR, 2, None),
                (events.EventType.ENROLMENT_INTAKE_FINISHED, ParticipantRole.MENTOR, 2, None),
                (events.EventType.ENROLMENT_INTAKE_ASKED, ParticipantRole.MENTOR, 2, None)):
            row = ProgrammeParticipant(id=uuid.uuid4(), programme_id=programme.id, user_id=coordinator, role=role,
                                       capacity=capacity, status=ParticipantStatus.ACTIVE)
            recorded.append(events.record(seed, event_type, enrolment.enrolment_payload(seed, programme, row, via),
                                          actor=f"user:{coordinator}"))
        # Its pairings: proposed with a first time, and ended with its reason.
        for event_type in sorted(events.PAIRING_EVENTS):
            ended = event_type == events.EventType.PAIRING_ENDED
            pairing = Pairing(id=uuid.uuid4(), programme_id=programme.id, listing_id=uuid.uuid4(),
                              mentor_profile_id=mentor_profile, mentee_user_id=coordinator, cadence_weeks=2,
                              session_minutes=45, session_count=12, series_id=None if ended else uuid.uuid4(),
                              first_start=None if ended else now, status=PairingStatus.ENDED if ended
                              else PairingStatus.ACTIVE, ended_by="coordinator" if ended else None,
                              end_reason="Goals reached" if ended else None)
            recorded.append(events.record(seed, event_type, pairings.pairing_payload(seed, programme, pairing),
                                          actor=f"user:{coordinator}"))
        # And its goals: with a target date and without.
        for event_type, target in zip(sorted(events.GOAL_EVENTS), (now.date(), None, now.date(), None), strict=True):
            goal = PairingGoal(id=uuid.uuid4(), title="Give a talk", target_date=target, status=GoalStatus.OPEN)
            recorded.append(events.record(seed, event_type, goals.goal_payload(seed, programme, pairing, goal),
                                          actor=f"user:{coordinator}"))
        # Its plan's steps: done, skipped with a note, back to do; at a week and at a session.
        for event_type, anchor, status, note in (
                (events.EventType.PLAN_STEP_DONE, StepAnchor.WEEK, StepStatus.DONE, None),
                (events.EventType.PLAN_STEP_SKIPPED, StepAnchor.SESSION, StepStatus.SKIPPED, "Done in week 1"),
                (events.EventType.PLAN_STEP_REOPENED, StepAnchor.WEEK, StepStatus.TODO, None)):
            step = PairingStep(id=uuid.uuid4(), anchor=anchor, number=2, title="Set a goal", status=status, note=note)
            recorded.append(events.record(seed, event_type, plan_steps.step_payload(seed, programme, pairing, step),
                                          actor=f"user:{coordinator}"))
        # Its match runs: under way, done with a result, failed with why.
        for event_type in sorted(events.of_aggregate("match_run")):
            done, failed = event_type == events.EventType.MATCH_RUN_COMPLETED, \
                event_type == events.EventType.MATCH_RUN_FAILED
            run = MatchRun(id=uuid.uuid4(), programme_id=programme.id, stage="done" if done else "scoring every pair",
                           progress=100 if done else 70, status=MatchRunStatus.DONE if done else
                           MatchRunStatus.FAILED if failed else MatchRunStatus.RUNNING,
                           result={"mentees": 40, "matched": 38, "top3_share": 0.92} if done else None,
                           error="it took longer than MATCH_RUN_SECONDS (300 s)" if failed else None)
            recorded.append(events.record(seed, event_type, match_run_lifecycle.payload(seed, programme, run),
                                          actor=f"user:{coordinator}"))
    return recorded


def test_every_event_type_we_send_matches_its_schema_in_our_openapi_document(
    client: FlaskClient, seed: Session, celery_app: Celery, committed: sessionmaker[Session],
    receiver: Receiver, start_worker: StartWorker, fast_beat: None,
) -> None:
    document = client.get("/api/openapi.json").json
    assert document["openapi"].startswith("3.1")
    documented = document["webhooks"]

    operator = admin(seed)  # an admin's endpoint gets every event, as the mentor sees it
    everything = endpoint(seed, receiver, operator, "/all", event_types=["*"])
    recorded, participant = _every_event(seed)
    mentee = endpoint(seed, receiver, Actor(participant), "/participant", event_types=["*"])
    with committed() as db:
        endpoints.send_test(db, operator, everything.id, settings=get_settings())
        db.commit()

    start_worker(queues="webhooks")
    for event in recorded:
        celery_app.send_task("webhooks.fan_out", args=[str(event.id)])
    # The participant's endpoint sees its group's events only (its reminder too), and its conversation's, which an
    # admin's endpoint does not.
    group_events = len(events.SESSION_EVENTS) + 1  # and its reminder
    private = len(events.PRIVATE_EVENTS)
    expected = (len(recorded) + 1 - private, group_events + private)
    wait_until(lambda: (len(receiver.at("/all")), len(receiver.at("/participant"))) == expected, 30, "every delivery")

    deliveries = receiver.at("/all") + receiver.at("/participant")
    assert {d.payload["type"] for d in deliveries if d.payload} == set(documented)
    for delivery in deliveries:
        assert delivery.verify_error is None, delivery.verify_error
        secret = receiver.secrets[delivery.path]
        body = receive(delivery.body, delivery.headers, secret)
        post = documented[body["type"]]["post"]
        for header in post["parameters"]:
            assert delivery.headers.get(header["name"]), header["name"]
        schema = post["requestBody"]["content"]["application/json"]["schema"]
        errors = list(Draft202012Validator({**schema, "components": document["components"]})
                      .iter_errors(body))
        assert errors == [], (body, [error.message for error in errors])

    # The participant's view of a group event names no other participant.
    for delivery in receiver.at("/participant"):
        assert payloads.GROUP_KEY not in delivery.payload["data"]
    assert mentee.id != everything.id
