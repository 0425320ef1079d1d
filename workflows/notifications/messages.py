"""What each event tells whom: the words of each party's notification, written into their inbox in their own
names, zone and locale."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import EmailStatus, Listing, MentorProfile, OutboxEvent, User
from outbox import enqueue_after_commit
from workflows import wording
from workflows.bookings import series
from workflows.clock import utcnow
from workflows.errors import NotFound
from workflows.events import DomainEvent, EventType, from_outbox
from workflows.inbox import INSERT_ONCE, SEND_EMAIL_TASK
from workflows.roles import Role
from workflows.scheduling.slots import free_slots

log = structlog.get_logger(__name__)


# A move by agreement: to both.
MOVED = ("Session moved", "{listing} with {other} moved from {previous} to {when}. It costs nothing.")
# Attendance (workflows.sessions.attendance): who was absent, by the session's ``absent``; a group seat's absence; a
# dispute of it, told to the other side; an administrator's answer, to both.
YOU_WERE_ABSENT = ("You were recorded absent", (
    "You were recorded absent from {listing} with {other} on {when}. If you were there, dispute it from the session "
    "page within {hours} hours; otherwise, as for a late cancellation, your bundle credit is used or the late fee is "
    "due once that time has passed."))
ABSENT: dict[str, dict[Role, tuple[str, str]]] = {
    "mentee": {Role.MENTOR: ("Mentee absent", "{other} was recorded absent from {listing} on {when}."),
               Role.MENTEE: YOU_WERE_ABSENT},
    "mentor": {Role.MENTEE: ("Your mentor did not come", (
        "{other} did not come to {listing} on {when}. Unless they show within {hours} hours that they did, you pay "
        "nothing and your bundle credit comes back. Book another time from the link below.")),
               Role.MENTOR: ("You were recorded absent", (
                   "You were recorded absent from {listing} with {other} on {when}; it counts in your statistics. "
                   "If you were there, dispute it from the session page within {hours} hours."))},
}
DISPUTED = ("Attendance disputed",
            "{other} disputes who was absent from {listing} on {when}{reason}. An administrator will decide.")
RESOLVED = ("Attendance reviewed", "An administrator reviewed who was absent from {listing} on {when}: {outcome}.")
FINAL = ("Attendance final", "Who was absent from {listing} with {other} on {when} is final: {outcome}{cost}.")
OUTCOMES = {"mentee": "the mentee was absent", "mentor": "the mentor was absent", "none": "nobody was absent"}
# A series (workflows.bookings.series): the request to the mentor, the answer to the mentee; a withdrawal or a
# cancellation from a date on, to the side that did not make it.
SERIES_REQUESTED = ("New series request", "{other} asks for {listing} {every}, {count} times from {when}.")
SERIES_ACCEPTED = ("Series accepted", "{other} accepted {count} meetings of {listing} {every} from {when}{skipped}.")
SERIES_DECLINED = ("Series declined", "{other} declined your series of {listing} from {when}{reason}.")
SERIES_WITHDRAWN = ("Series request withdrawn", "{other} withdrew the series request for {listing} from {when}.")
SERIES_CANCELLED = ("Series cancelled", "{other} cancelled the meetings of {listing} from {since} on{reason}.")
# A place in line for a full group session (workflows.sessions.waitlists), to the mentee in line.
SEAT_OFFERED = ("A seat is free for you", (
    "A seat in {listing} on {when} is held for you until {until}: take it from the listing, or it goes to the next "
    "in line."))
SEAT_GIVEN = ("You have a seat", "You moved up from the waitlist: your seat in {listing} on {when} is booked.")
SEAT_GONE = ("Waitlist place ended", "Your place in line for {listing} on {when} ended without a seat{reason}.")
# Event type -> each told party's (title, body). The body names the other person ({other}), the listing
# ({listing}), the time in the reader's timezone and locale ({when}), and a reason when one was given.
MESSAGES: dict[EventType, dict[Role, tuple[str, str]]] = {
    EventType.BOOKING_REQUESTED: {Role.MENTOR: ("New booking request", "{other} asked for {listing} on {when}.")},
    EventType.BOOKING_ACCEPTED: {Role.MENTEE: (
        "Booking accepted", "{other} accepted your request for {listing} on {when}.")},
    EventType.BOOKING_DECLINED: {Role.MENTEE: (
        "Booking declined", "{other} declined your request for {listing} on {when}{reason}.")},
    EventType.BOOKING_CANCELLED: {Role.MENTOR: (
        "Booking request withdrawn", "{other} withdrew the request for {listing} on {when}{reason}.")},
    EventType.BOOKING_EXPIRED: {
        Role.MENTOR: ("Booking request expired",
                      "The request of {other} for {listing} on {when} expired before it was answered."),
        Role.MENTEE: ("Booking request expired",
                      "Your request to {other} for {listing} on {when} expired before it was answered.")},
    EventType.SESSION_CANCELLED: dict.fromkeys((Role.MENTOR, Role.MENTEE), (
        "Session cancelled", "{listing} with {other} on {when} was cancelled{reason}.")),
    EventType.SESSION_COMPLETED: {
        Role.MENTOR: ("Session completed", "{listing} with {other} on {when} is complete."),
        Role.MENTEE: ("Session completed", "{listing} with {other} on {when} is complete: you can review it now.")},
    EventType.SESSION_MISSED: dict.fromkeys((Role.MENTOR, Role.MENTEE), (
        "Session missed", "{listing} with {other} on {when} was never started.")),
    EventType.SESSION_UPDATED: {Role.MENTEE: (
        "Session details changed", "{other} changed the meeting link or agenda of {listing} on {when}.")},
    EventType.REVIEW_CREATED: {Role.MENTOR: ("New review", "A mentee rated your session {rating}/5.")},
    EventType.BOOKING_RESCHEDULED: dict.fromkeys((Role.MENTOR, Role.MENTEE), MOVED),
    EventType.BOOKING_NO_SHOW: {Role.MENTEE: YOU_WERE_ABSENT},  # a group seat's
    EventType.BOOKING_NO_SHOW_CONFIRMED: dict.fromkeys((Role.MENTOR, Role.MENTEE), FINAL),
    EventType.ATTENDANCE_RESOLVED: dict.fromkeys((Role.MENTOR, Role.MENTEE), RESOLVED),
    EventType.BOOKING_SERIES_REQUESTED: {Role.MENTOR: SERIES_REQUESTED},
    EventType.BOOKING_SERIES_ACCEPTED: {Role.MENTEE: SERIES_ACCEPTED},
    EventType.BOOKING_SERIES_DECLINED: {Role.MENTEE: SERIES_DECLINED},
    EventType.WAITLIST_OFFERED: {Role.MENTEE: SEAT_OFFERED},
    EventType.WAITLIST_PROMOTED: {Role.MENTEE: SEAT_GIVEN},
    EventType.WAITLIST_EXPIRED: {Role.MENTEE: SEAT_GONE},
}
# A series' times answered with it: its own event tells of them, once (a time the system settled because another
# request took it is told as any other).
ANSWERED_WITH_SERIES = frozenset({EventType.BOOKING_ACCEPTED, EventType.BOOKING_DECLINED, EventType.BOOKING_CANCELLED})
# Whose words depend on the payload: who was absent; the side that did not raise a dispute.
BY_PAYLOAD: dict[EventType, Callable[[Mapping[str, Any]], dict[Role, tuple[str, str]]]] = {
    EventType.SESSION_NO_SHOW: lambda payload: ABSENT[payload["absent"]],
    EventType.ATTENDANCE_DISPUTED: lambda payload: {
        Role.MENTEE if payload["raised_by"] == Role.MENTOR else Role.MENTOR: DISPUTED},
    EventType.BOOKING_SERIES_CANCELLED: lambda payload: {Role.MENTOR: SERIES_WITHDRAWN}
    if payload["status"] == "withdrawn" else
    {Role.MENTEE if payload["cancelled_by"] == Role.MENTOR else Role.MENTOR: SERIES_CANCELLED},
}
# A seat given up in a group session (booking.cancelled with its group session), as the mentor reads it.
SEAT_RELEASED = ("A seat was given up", "{other} left {listing} on {when}{reason}.")
# A request the system settled because its time was taken (its reason in the payload); the mentee is offered
# the listing's next free times.
SETTLED: dict[EventType, dict[Role, tuple[str, str]]] = {
    EventType.BOOKING_DECLINED: {Role.MENTEE: (
        "Booking declined", "Your request to {other} for {listing} on {when} was declined: {reason}. {next}")},
    EventType.BOOKING_CANCELLED: {
        Role.MENTEE: ("Booking request withdrawn",
                      "Your request to {other} for {listing} on {when} was withdrawn: {reason}. {next}"),
        Role.MENTOR: ("Booking request withdrawn", (
            "The request of {other} for {listing} on {when} was withdrawn: they have another session at this time."))},
}
# A proposal's news: to the side that did not cause it (proposals.*).
PROPOSALS: dict[EventType, tuple[str, str, str]] = {  # title, body, who is told: "other", "proposer" or "both"
    EventType.RESCHEDULE_PROPOSED: ("New time proposed",
                                    "{other} proposes to move {listing} on {when} to {times}{message}.", "other"),
    EventType.RESCHEDULE_REQUESTED: ("Please choose another time", ("{other} asks you to choose another time for "
                                     "{listing} on {when}{message}; or cancel it, at no cost. {next}"), "other"),
    EventType.RESCHEDULE_DECLINED: ("Proposal declined",
                                    "{other} declined to move {listing} on {when}: it stays then.", "proposer"),
    EventType.RESCHEDULE_WITHDRAWN: ("Proposal withdrawn",
                                     "{other} withdrew the proposal to move {listing} on {when}.", "other"),
    EventType.RESCHEDULE_EXPIRED: ("Proposal closed",
                                   "The proposal to move {listing} on {when} is no longer open.", "both"),
}
# Every event type someone is told of: the notifications handler's (workflows.handlers).
NOTIFIED = (*MESSAGES, *BY_PAYLOAD, *PROPOSALS)
NEXT_SLOTS_SHOWN = 3
NEXT_SLOTS_DAYS = 14
GROUP = "the group"


def settled_by_system(outbox_event: OutboxEvent) -> bool:
    """Whether the event is the system's settling of a request (not a seat, not a person's decision)."""
    payload = outbox_event.payload
    return (outbox_event.type in SETTLED and outbox_event.actor == Role.SYSTEM.value
            and not payload.get("group_session_id") and not series.skipped_at_accept(payload.get("reason")))


def messages_for(outbox_event: OutboxEvent) -> dict[Role, tuple[str, str]]:
    """Who the event tells, and what each reads."""
    event_type = EventType(outbox_event.type)
    if settled_by_system(outbox_event):
        return SETTLED[event_type]
    system = outbox_event.actor == Role.SYSTEM.value
    if (outbox_event.payload.get("series_id") and event_type in ANSWERED_WITH_SERIES) \
            or (event_type == EventType.SESSION_CANCELLED and system) \
            or (event_type == EventType.WAITLIST_PROMOTED and not system) \
            or (event_type == EventType.BOOKING_ACCEPTED and system and outbox_event.payload.get("group_session_id")):
        # A time answered with its series (the series' event tells); the session of a moved booking
        # (booking.rescheduled tells); a seat the mentee took from the line themself; a seat the system gave from
        # the line (waitlist.promoted tells).
        return {}
    if event_type in BY_PAYLOAD:
        return BY_PAYLOAD[event_type](outbox_event.payload)
    if event_type in PROPOSALS:
        title, body, told = PROPOSALS[event_type]
        proposer = Role(outbox_event.payload["proposed_by"])
        other = Role.MENTEE if proposer == Role.MENTOR else Role.MENTOR
        roles = {"other": (other,), "proposer": (proposer,), "both": (Role.MENTOR, Role.MENTEE)}[told]
        return dict.fromkeys(roles, (title, body))
    if event_type == EventType.BOOKING_CANCELLED and outbox_event.payload.get("group_session_id"):
        return {Role.MENTOR: SEAT_RELEASED}
    return MESSAGES.get(event_type, {})


def link_for(event_type: EventType, payload: dict[str, Any], role: Role) -> str:
    """The web app's route of what a notification is about."""
    if event_type.value.startswith("waitlist.") and role == Role.MENTEE and event_type != EventType.WAITLIST_PROMOTED:
        return f"#/listings/{payload['listing_id']}"  # where the session's seat is taken, or another one found
    rebook = event_type == EventType.SESSION_NO_SHOW and payload.get("absent") == "mentor" and role == Role.MENTEE
    if rebook or (role == Role.MENTEE and event_type in {
            EventType.BOOKING_DECLINED, EventType.BOOKING_CANCELLED, EventType.BOOKING_EXPIRED}
            and not payload.get("group_session_id")):
        return f"#/listings/{payload['listing_id']}"  # to choose another time
    session = payload.get("session_id") if "session_id" in payload else \
        payload["id"] if event_type.value.startswith("session.") else payload.get("group_session_id")
    if session:
        return f"#/sessions/{session}"
    if role == Role.MENTOR:
        return "#/requests"
    return "#/bookings"


def next_free_times(db: Session, listing_id: str, now: datetime, reader: Reader) -> str:
    """The listing's next free starts, in the reader's words, for a mentee whose request was settled."""
    found = free_slots(db, uuid.UUID(listing_id), start=now, end=now + timedelta(days=NEXT_SLOTS_DAYS), now=now)
    if not found:
        return f"The listing has no free time in the next {NEXT_SLOTS_DAYS} days."
    times = "; ".join(reader.when(slot.start_time) for slot in found[:NEXT_SLOTS_SHOWN])
    return f"Its next free times: {times}."


@dataclass(frozen=True)
class Reader:
    """Who reads a notification: their name, and how they read times."""

    name: str
    timezone: str | None
    locale: str | None

    def when(self, start: datetime, fallback_timezone: str | None = None) -> str:
        return wording.when(start, self.timezone, self.locale, fallback_timezone=fallback_timezone)


@dataclass(frozen=True)
class Context:
    """What a batch of events' messages name, read in a few queries: people, listings, mentors' timezones."""

    readers: dict[uuid.UUID, Reader]
    titles: dict[uuid.UUID, str]
    mentor_users: Mapping[uuid.UUID, uuid.UUID]
    mentor_zones: dict[uuid.UUID, str]

    @classmethod
    def read(cls, db: Session, events: Sequence[DomainEvent], payloads: Sequence[dict[str, Any]]) -> Context:
        profiles = {event.participants.mentor_profile_id for event in events} - {None}
        rows = db.execute(select(MentorProfile.id, MentorProfile.user_id, MentorProfile.timezone)
                          .where(MentorProfile.id.in_(profiles))).all() if profiles else []
        mentor_users = {row.id: row.user_id for row in rows}
        people = set(mentor_users.values()) | {m for event in events for m in event.participants.mentee_user_ids}
        readers = {row.id: Reader(row.display_name, row.timezone, row.locale) for row in db.execute(
            select(User.id, User.display_name, User.timezone, User.locale).where(User.id.in_(people)))}
        listing_ids = {uuid.UUID(p["listing_id"]) for p in payloads if p.get("listing_id")}
        titles = {row.id: row.title for row in db.execute(
            select(Listing.id, Listing.title).where(Listing.id.in_(listing_ids)))}
        return cls(readers, titles, mentor_users, {row.id: row.timezone for row in rows})

    def name(self, user_id: uuid.UUID | None, fallback: str) -> str:
        reader = self.readers.get(user_id) if user_id else None
        return reader.name if reader else fallback


def _body(db: Session, context: Context, outbox_event: OutboxEvent, *, mentor: uuid.UUID | None, role: Role,
          user_id: uuid.UUID, template: str) -> str:
    payload = outbox_event.payload
    reader = context.readers.get(user_id, Reader("", None, None))
    mentee = payload.get("mentee_user_id")
    if role == Role.MENTOR:
        other = context.name(uuid.UUID(mentee), "a mentee") if mentee else GROUP
    else:
        other = context.name(context.mentor_users.get(mentor) if mentor else None, "your mentor")
    fallback_zone = context.mentor_zones.get(mentor) if mentor else None
    start = datetime.fromisoformat(payload["start_time"]) if payload.get("start_time") else None
    listing = context.titles.get(uuid.UUID(payload["listing_id"])) if payload.get("listing_id") else None
    words = {
        "other": other, "listing": f"\u201c{listing}\u201d" if listing else "your session",
        "when": reader.when(start, fallback_zone) if start else "",
        "reason": payload.get("reason") or "", "rating": payload.get("rating"),
        "next": next_free_times(db, payload["listing_id"], utcnow(), reader) if "{next}" in template else "",
        "times": "; ".join(reader.when(datetime.fromisoformat(t), fallback_zone)
                           for t in payload.get("start_times", [])),
        "previous": reader.when(datetime.fromisoformat(payload["previous_start_time"]), fallback_zone)
        if payload.get("previous_start_time") else "",
        "message": f": \u201c{payload['message']}\u201d" if payload.get("message") else "",
        "hours": get_settings().no_show_dispute_hours,
        "outcome": OUTCOMES.get(payload.get("attribution_after") or payload.get("no_show") or "", ""),
        "cost": _cost(payload) if outbox_event.type == EventType.BOOKING_NO_SHOW_CONFIRMED else "",
        **_series_words(payload, reader, fallback_zone),
        "until": reader.when(datetime.fromisoformat(payload["offer_expires_at"]), fallback_zone)
        if payload.get("offer_expires_at") else "",
    }
    if not settled_by_system(outbox_event) and words["reason"]:
        words["reason"] = f": \u201c{words['reason']}\u201d"
    return template.format(**words)


def _cost(payload: Mapping[str, Any]) -> str:
    """What a final absence cost the mentee, as ``booking.no_show_confirmed`` tells it."""
    if payload.get("credit_status") == "forfeited":
        return "; the bundle credit is used"
    if payload.get("credit_status") == "returned":
        return "; the bundle credit is back"
    fee = payload.get("no_show_fee_cents") or 0
    return f"; the fee is {fee / 100:.2f} {payload.get('currency', '')}".rstrip() if fee else ""


def _series_words(payload: Mapping[str, Any], reader: Reader, zone: str | None) -> dict[str, Any]:
    """A series' words: how often, how many times, the times taken meanwhile, and from when it was cancelled."""
    if "every_weeks" not in payload:
        return {}
    times = payload["occurrences"]
    counted = payload["accepted_count"] if payload["status"] != "requested" else \
        sum(1 for one in times if one["status"] == "draft")
    skipped = payload["skipped_count"]
    return {"every": "every week" if payload["every_weeks"] == 1 else "every two weeks", "count": counted,
            "skipped": f"; {skipped} of the times were taken meanwhile and left out" if skipped else "",
            "since": reader.when(datetime.fromisoformat(payload["cancelled_from"]), zone)
            if payload.get("cancelled_from") else ""}


def recipients(event: DomainEvent, roles: tuple[Role, ...], mentor_users: Mapping[uuid.UUID, uuid.UUID]
               ) -> list[tuple[uuid.UUID, Role]]:
    """The users told of ``event`` among its participants in ``roles``, each with their part in it.

    ``mentor_users`` maps mentor profiles to their users (:class:`Context`).
    """
    people: list[tuple[uuid.UUID, Role]] = []
    mentor = event.participants.mentor_profile_id
    if Role.MENTOR in roles and mentor is not None:
        if mentor not in mentor_users:
            raise NotFound("mentor profile not found")
        people.append((mentor_users[mentor], Role.MENTOR))
    if Role.MENTEE in roles:
        people.extend((mentee, Role.MENTEE) for mentee in event.participants.mentee_user_ids)
    return people


def handle_events(db: Session, outbox_events: Sequence[OutboxEvent]) -> None:
    """The notifications handler: tell the right people about the events, each as their part lets them see it,
    in their own words: the other person's name, the listing, the time in their timezone and locale, a link.

    A batch of events costs four statements (mentors, people, listings, and one insert of every
    notification), and a free-slot search for each request the system settled.
    """
    told = [(outbox_event, messages_for(outbox_event)) for outbox_event in outbox_events]
    told = [(outbox_event, texts) for outbox_event, texts in told if texts]
    events = [from_outbox(outbox_event) for outbox_event, _ in told]
    context = Context.read(db, events, [outbox_event.payload for outbox_event, _ in told])
    email_status = EmailStatus.PENDING if get_settings().smtp_url else EmailStatus.NONE
    rows: list[dict[str, Any]] = []
    for (outbox_event, texts), event in zip(told, events, strict=True):
        for user_id, role in recipients(event, tuple(texts), context.mentor_users):
            title, template = texts[role]
            rows.append({"id": uuid.uuid4(), "user_id": user_id, "event_id": event.id, "type": event.type,
                         "title": title,
                         "body": _body(db, context, outbox_event, mentor=event.participants.mentor_profile_id,
                                       role=role, user_id=user_id, template=template),
                         "data": {"event_type": event.type, "resource": event.view_for(role),
                                  "link": link_for(EventType(event.type), outbox_event.payload, role)},
                         "email_status": email_status})
    if not rows:
        return
    created = list(db.execute(INSERT_ONCE, rows).scalars())
    log.info("notifications.created", count=len(created), events=len(events))
    if email_status == EmailStatus.PENDING:
        for new_id in created:
            enqueue_after_commit(db, SEND_EMAIL_TASK, str(new_id))


def handle_event(db: Session, outbox_event: OutboxEvent) -> None:
    """:func:`handle_events` for one event."""
    handle_events(db, [outbox_event])


