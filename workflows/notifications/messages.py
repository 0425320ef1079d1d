"""What each event tells whom: each party's notification, a title and a body that are templates, and their words
(names, the listing, typed times), written into their inbox; each reader reads it in their own zone and locale
(``workflows.inbox.shown``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from infra.config import get_settings
from models import EmailStatus, Listing, MentorProfile, OutboxEvent, User
from outbox import enqueue_after_commit
from workflows import wording
from workflows.bookings import lifecycle, links, reschedules, series
from workflows.clock import utcnow
from workflows.errors import NotFound
from workflows.events import DomainEvent, EventType, from_outbox
from workflows.inbox import INSERT_ONCE, SEND_EMAIL_TASK
from workflows.language import Text, text
from workflows.notifications import together
from workflows.notifications.texts import (
    ANSWERED_WITH_SERIES,
    BY_PAYLOAD,
    INSTANT,
    INSTANT_TOLD,
    MESSAGES,
    OUTCOMES,
    PROPOSALS,
    SEATS,
    SETTLED,
    Link,
    Message,
)
from workflows.roles import Role
from workflows.scheduling.slots import free_slots

log = structlog.get_logger(__name__)


NEXT_SLOTS_SHOWN = 3
NEXT_SLOTS_DAYS = 14
# The words a message names someone or something by when it has no name of its own.
GROUP = text("words.the_group", "the group")
A_MENTEE = text("words.a_mentee", "a mentee")
A_MENTOR = text("words.a_mentor", "a mentor")
YOUR_MENTOR = text("words.your_mentor", "your mentor")
A_PARTICIPANT = text("words.a_participant", "a participant")
YOUR_SESSION = text("words.your_session", "your session")
PARTS = {"mentor": text("words.as_a_mentor", "a mentor"), "mentee": text("words.as_a_mentee", "a mentee")}
PAIR = text("words.pair", "{mentor} and {mentee}")
# What someone said with their move (a reason, a message), after the words it explains.
SAID = text("words.said", ": \u201c{quote}\u201d")
NO_FREE_TIME = text("words.no_free_time", "The listing has no free time in the next {days} days.")
NEXT_TIMES = text("words.next_times", "Its next free times: {times}.")
BACK_ON = text("words.back_on", " It goes on by itself on {day}: its remaining sessions are asked for again then.")
EVERY = {1: text("words.every_week", "every week"), 2: text("words.every_two_weeks", "every two weeks")}
SKIPPED = text("words.skipped", "; {count} of the times was taken meanwhile and left out",
               plural="; {count} of the times were taken meanwhile and left out")
CREDIT_USED = text("words.credit_used", "; the bundle credit is used")
CREDIT_BACK = text("words.credit_back", "; the bundle credit is back")
FEE = text("words.fee", "; the fee is {fee}")
# The reasons the system gives when it settles a request (kept as they are in the event, for integrators), in the
# reader's words.
SYSTEM_REASONS = {
    lifecycle.ANOTHER_ACCEPTED: text("reason.another_accepted", "the mentor accepted another request for this time"),
    lifecycle.GROUP_SCHEDULED: text("reason.group_scheduled", "the mentor scheduled a group session at this time"),
    lifecycle.MENTEE_BOOKED: text("reason.mentee_booked", "you have a session at this time"),
    lifecycle.AWAY: text("reason.away", "the mentor is away at this time"),
    lifecycle.HOURS_CHANGED: text("reason.hours_changed", "the mentor changed their hours for this date"),
    reschedules.UNANSWERED: text("reason.move_unanswered", "the mentor asked to move it and no new time was chosen"),
    reschedules.CANCELLED_ON_REQUEST: text("reason.move_cancelled",
                                           "the mentor asked to move it and the mentee cancelled"),
    links.REASON: text("reason.cancelled_by_link", "cancelled from the link in an email"),
}


def settled_by_system(outbox_event: OutboxEvent) -> bool:
    """Whether the event is the system's settling of a request (not a seat, not a person's decision)."""
    payload = outbox_event.payload
    return (outbox_event.type in SETTLED and outbox_event.actor == Role.SYSTEM.value
            and not payload.get("group_session_id") and not series.skipped_at_accept(payload.get("reason")))


def messages_for(outbox_event: OutboxEvent) -> dict[Role, Message]:
    """Who the event tells, and what each reads."""
    event_type = EventType(outbox_event.type)
    system = outbox_event.actor == Role.SYSTEM.value
    if settled_by_system(outbox_event) or (outbox_event.payload.get("instant") and event_type in INSTANT_TOLD):
        return _by_system(event_type, outbox_event.payload, system=system)
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
        message, told = PROPOSALS[event_type]
        proposer = Role(outbox_event.payload["proposed_by"])
        other = Role.MENTEE if proposer == Role.MENTOR else Role.MENTOR
        roles = {"other": (other,), "proposer": (proposer,), "both": (Role.MENTOR, Role.MENTEE)}[told]
        return dict.fromkeys(roles, message)
    if outbox_event.payload.get("group_session_id") and event_type in SEATS:
        return SEATS[event_type]
    return MESSAGES.get(event_type, {})


def _by_system(event_type: EventType, payload: Mapping[str, Any], *, system: bool) -> dict[Role, Message]:
    """A request the system settled (its own words); or one booked instantly: the system's accept tells both (a
    series' times, with it), the request no one."""
    if not payload.get("instant"):
        return SETTLED[event_type]
    if not system or (event_type == EventType.BOOKING_ACCEPTED and payload.get("series_id")):
        return {}
    return INSTANT.get(event_type, {})


# Where a programme's events other than its own lead: its page, or its matching screen.
PROGRAMME_SCREENS = {"enrolment": "", "pairing": "", "goal": "", "plan": "", "match_run": "/matching"}


def link_for(link: Link, event_type: EventType, payload: Mapping[str, Any], role: Role) -> str:
    """The web app's route of where a message leads (its row's ``link``)."""
    if event_type.aggregate == "programme" or event_type.aggregate in PROGRAMME_SCREENS:
        return _programme_link(event_type, payload)
    if link == Link.LISTING or (link == Link.ANOTHER_TIME and not payload.get("group_session_id")):
        return f"#/listings/{payload['listing_id']}"
    session = payload.get("session_id") if "session_id" in payload else \
        payload["id"] if event_type.value.startswith("session.") else payload.get("group_session_id")
    if session:
        return f"#/sessions/{session}"
    if role == Role.MENTOR:
        return "#/requests"
    return "#/bookings"


def _programme_link(event_type: EventType, payload: Mapping[str, Any]) -> str:
    """A programme's event leads to its page; a pairing's (or its goal's), to the pairing there."""
    if event_type.aggregate == "programme":
        return f"#/programmes/{payload['id']}"
    if event_type.aggregate in together.PAIRING_LINKED:
        return together.pairing_link(payload)
    return f"#/programmes/{payload['programme_id']}{PROGRAMME_SCREENS[event_type.aggregate]}"


def next_free_times(db: Session, listing_id: str, now: datetime, zone: str | None = None) -> dict[str, Any]:
    """The listing's next free starts, for a mentee whose request was settled (a reader with no timezone reads
    them in ``zone``, the mentor's, as every other time of the message)."""
    found = free_slots(db, uuid.UUID(listing_id), start=now, end=now + timedelta(days=NEXT_SLOTS_DAYS), now=now)
    if not found:
        return wording.phrase(NO_FREE_TIME, days=NEXT_SLOTS_DAYS)
    return wording.phrase(NEXT_TIMES, times=wording.times((slot.start_time for slot in found[:NEXT_SLOTS_SHOWN]), zone))


@dataclass(frozen=True)
class Context:
    """What a batch of events' messages name, read in a few queries: people, listings, mentors' timezones."""

    names: dict[uuid.UUID, str]
    titles: dict[uuid.UUID, str]
    mentor_users: Mapping[uuid.UUID, uuid.UUID]
    mentor_zones: dict[uuid.UUID, str]

    @classmethod
    def read(cls, db: Session, events: Sequence[DomainEvent], payloads: Sequence[dict[str, Any]]) -> Context:
        profiles = {event.participants.mentor_profile_id for event in events} - {None}
        rows = db.execute(select(MentorProfile.id, MentorProfile.user_id, MentorProfile.timezone)
                          .where(MentorProfile.id.in_(profiles))).all() if profiles else []
        mentor_users = {row.id: row.user_id for row in rows}
        people = set(mentor_users.values()) | {m for event in events
                                               for m in event.participants.mentee_user_ids
                                               + event.participants.participant_user_ids}
        names = {row.id: row.display_name for row in db.execute(
            select(User.id, User.display_name).where(User.id.in_(people)))}
        listing_ids = {uuid.UUID(p["listing_id"]) for p in payloads if p.get("listing_id")}
        titles = {row.id: row.title for row in db.execute(
            select(Listing.id, Listing.title).where(Listing.id.in_(listing_ids)))}
        return cls(names, titles, mentor_users, {row.id: row.timezone for row in rows})

    def name(self, user_id: uuid.UUID | None, fallback: Text) -> str | dict[str, Any]:
        """A person's name, else the words for someone unnamed (in the reader's language)."""
        return (self.names.get(user_id) if user_id else None) or wording.phrase(fallback)


def _words(db: Session, context: Context, outbox_event: OutboxEvent, *, mentor: uuid.UUID | None, role: Role,
           template: str) -> dict[str, Any]:
    """The words of the body ``template`` for the party in ``role``: its times typed, to be written for the reader
    when read (a reader with no timezone reads the mentor's)."""
    payload = outbox_event.payload
    mentee = payload.get("mentee_user_id")
    if role == Role.MENTOR:
        other = context.name(uuid.UUID(mentee), A_MENTEE) if mentee else wording.phrase(GROUP)
    else:
        other = context.name(context.mentor_users.get(mentor) if mentor else None, YOUR_MENTOR)
    fallback_zone = context.mentor_zones.get(mentor) if mentor else None
    start = datetime.fromisoformat(payload["start_time"]) if payload.get("start_time") else None
    listing = context.titles.get(uuid.UUID(payload["listing_id"])) if payload.get("listing_id") else None
    words = {
        "other": other, "listing": wording.quoted(listing) if listing else wording.phrase(YOUR_SESSION),
        "when": wording.at(start, fallback_zone) if start else "",
        "reason": _reason(payload.get("reason") or payload.get("note"), system=settled_by_system(outbox_event)),
        "rating": payload.get("rating"),
        "next": next_free_times(db, payload["listing_id"], utcnow(), fallback_zone) if "{next}" in template else "",
        "times": wording.times((datetime.fromisoformat(t) for t in payload.get("start_times", [])), fallback_zone),
        "previous": wording.at(datetime.fromisoformat(payload["previous_start_time"]), fallback_zone)
        if payload.get("previous_start_time") else "",
        "message": wording.phrase(SAID, quote=payload["message"]) if payload.get("message") else "",
        "hours": get_settings().no_show_dispute_hours,
        "outcome": _outcome(payload.get("attribution_after") or payload.get("no_show")),
        "cost": _cost(payload) if outbox_event.type == EventType.BOOKING_NO_SHOW_CONFIRMED else "",
        **_series_words(payload, fallback_zone),
        "back": wording.phrase(BACK_ON, day=wording.day(date.fromisoformat(payload["resume_on"])))
        if payload.get("resume_on") else "",
        "until": wording.at(datetime.fromisoformat(payload["offer_expires_at"]), fallback_zone)
        if payload.get("offer_expires_at") else "",
        "programme": wording.quoted(payload["name"]) if outbox_event.type.startswith("programme.") else
        wording.quoted(payload["programme_name"]) if "programme_name" in payload else "",
        "person": context.name(uuid.UUID(payload["participant_user_id"]), A_PARTICIPANT)
        if payload.get("participant_user_id") else "",
        "part": wording.phrase(PARTS[payload["role"]]) if payload.get("role") in PARTS else "",
        "goal": wording.quoted(payload["title"]) if outbox_event.type.startswith("goal.") else "",
        "step": wording.quoted(payload["title"]) if outbox_event.type.startswith("plan.") else "",
        "matched": payload.get("matched"), "mentees": payload.get("mentees"), "error": payload.get("error") or "",
        "pair": wording.phrase(PAIR, mentor=context.name(context.mentor_users.get(mentor) if mentor else None,
                                                         A_MENTOR), mentee=context.name(uuid.UUID(mentee), A_MENTEE))
        if mentee and "{pair}" in template else "",
        "sessions": together.sessions_word(db, outbox_event.type, payload, role, fallback_zone)
        if "{sessions}" in template else "",
    }
    # Only the words the template names are kept.
    return {name: value for name, value in words.items() if "{" + name + "}" in template}


def _reason(reason: str | None, *, system: bool) -> dict[str, Any] | str:
    """A reason given with a move: the system's, in the reader's words; a person's, as they wrote it, quoted."""
    if not reason:
        return ""
    if system:
        said = SYSTEM_REASONS.get(reason)
        return wording.phrase(said) if said is not None else reason
    return wording.phrase(SAID, quote=reason)


def _outcome(absent: str | None) -> dict[str, Any] | str:
    said = OUTCOMES.get(absent or "")
    return wording.phrase(said) if said is not None else ""


def _cost(payload: Mapping[str, Any]) -> dict[str, Any] | str:
    """What a final absence cost the mentee, as ``booking.no_show_confirmed`` tells it."""
    if payload.get("credit_status") == "forfeited":
        return wording.phrase(CREDIT_USED)
    if payload.get("credit_status") == "returned":
        return wording.phrase(CREDIT_BACK)
    fee = payload.get("no_show_fee_cents") or 0
    return wording.phrase(FEE, fee=wording.money(fee, payload.get("currency") or "")) if fee else ""


def _series_words(payload: Mapping[str, Any], zone: str | None) -> dict[str, Any]:
    """A series' words: how often, how many times, the times taken meanwhile, and from when it was cancelled."""
    if "every_weeks" not in payload:
        return {}
    times = payload["occurrences"]
    counted = payload["accepted_count"] if payload["status"] != "requested" else \
        sum(1 for one in times if one["status"] == "draft")
    skipped = payload["skipped_count"]
    return {"every": wording.phrase(EVERY[1 if payload["every_weeks"] == 1 else 2]), "count": counted,
            "skipped": wording.phrase(SKIPPED, count=skipped) if skipped else "",
            "since": wording.at(datetime.fromisoformat(payload["cancelled_from"]), zone)
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
    if Role.COORDINATOR in roles:
        people.extend((coordinator, Role.COORDINATOR) for coordinator in event.participants.coordinator_user_ids)
    if Role.PARTICIPANT in roles:
        people.extend((member, Role.PARTICIPANT) for member in event.participants.participant_user_ids)
    return people


def handle_events(db: Session, outbox_events: Sequence[OutboxEvent]) -> None:
    """The notifications handler: tell the right people about the events, each as their part lets them see it,
    in their own words: the other person's name, the listing, the time in their timezone and locale, a link.

    A batch of events costs four statements (mentors, people, listings, and one insert of every
    notification), and a free-slot search for each request the system settled (once, whoever reads it); one more
    when series' events are among them (those a pairing's event tells are left out: ``together``), and one for each
    part reading a message that lists sessions.
    """
    told_elsewhere = together.told_by_pairing(db, outbox_events)
    told = [(outbox_event, messages_for(outbox_event)) for outbox_event in outbox_events
            if outbox_event.id not in told_elsewhere]
    told = [(outbox_event, texts) for outbox_event, texts in told if texts]
    events = [from_outbox(outbox_event) for outbox_event, _ in told]
    context = Context.read(db, events, [outbox_event.payload for outbox_event, _ in told])
    email_status = EmailStatus.PENDING if get_settings().smtp_url else EmailStatus.NONE
    rows: list[dict[str, Any]] = []
    for (outbox_event, texts), event in zip(told, events, strict=True):
        # A coordinator is not told of their own move (the others are).
        people = [(user_id, role) for user_id, role in recipients(event, tuple(texts), context.mentor_users)
                  if role != Role.COORDINATOR or outbox_event.actor != f"user:{user_id}"]
        # What a party reads depends on their part only (each reader's zone and locale come when read): its words,
        # view and link are made once per part, not once per reader (a group session's mentees share them).
        parts = {role: {
            "event_id": event.id, "type": event.type, "message": texts[role].key, "title": None, "body": None,
            "words": _words(db, context, outbox_event, mentor=event.participants.mentor_profile_id, role=role,
                            template=texts[role].body.english + (texts[role].body.plural or "")),
            "data": {"event_type": event.type, "resource": event.view_for(role),
                     "link": link_for(texts[role].link, EventType(event.type), outbox_event.payload, role)},
            "email_status": email_status} for role in {role for _user, role in people}}
        rows.extend({"id": uuid.uuid4(), "user_id": user_id, **parts[role]} for user_id, role in people)
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


