"""A programme's history as its coordinators read it: one line per event naming the people and the pair ("Carla Diaz
paired Ada Okafor with Zoë Müller", "Rahul Mehta joined as a mentee by link"), a match run's progress folded into
its run's one line.

The names of a page's people are read in two queries (users, and mentors by their profile), whatever its length.
Coordinators and admins are the only readers of a programme's history (``programme_access.may_read``): naming
its participants to them is what the programme's own pages do.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import MentorProfile, OutboxEvent, User
from workflows.actors import ADMIN_ACTOR_PREFIX
from workflows.events import EventType
from workflows.people import display_names

USER_PREFIX = "user:"
SOMEONE = "Someone"
FOLDED = frozenset({EventType.MATCH_RUN_PROGRESS.value})  # a run's progress: its run's line says where it got
VIA = {"invitation": "by invitation", "link": "by link", "sign_on": "through their organisation's sign-in"}


def _uuid(text: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(text))
    except ValueError:
        return None


def _actor_user(actor: str | None) -> uuid.UUID | None:
    for prefix in (USER_PREFIX, ADMIN_ACTOR_PREFIX):
        if actor and actor.startswith(prefix):
            return _uuid(actor.removeprefix(prefix))
    return None


def folded(events: Sequence[OutboxEvent]) -> list[OutboxEvent]:
    """The events without a run's progress: its requested, completed or failed line says what it did."""
    return [event for event in events if event.type not in FOLDED]


class Names:
    """The display names of the people a page of events names: users by id, mentors by their profile."""

    def __init__(self, db: Session, events: Iterable[OutboxEvent]) -> None:
        users: set[uuid.UUID] = set()
        profiles: set[uuid.UUID] = set()
        for event in events:
            payload = event.payload or {}
            for key in ("participant_user_id", "mentee_user_id"):
                if (found := _uuid(payload.get(key))) is not None:
                    users.add(found)
            if (profile := _uuid(payload.get("mentor_profile_id"))) is not None:
                profiles.add(profile)
            if (acting := _actor_user(event.actor)) is not None:
                users.add(acting)
        self.users = display_names(db, users)
        self.mentors = dict(db.execute(
            select(MentorProfile.id, User.display_name).join(User, User.id == MentorProfile.user_id)
            .where(MentorProfile.id.in_(profiles))).all()) if profiles else {}

    def user(self, value: Any) -> str:
        found = _uuid(value)
        return self.users.get(found, SOMEONE) if found is not None else SOMEONE

    def mentor(self, value: Any) -> str:
        found = _uuid(value)
        return self.mentors.get(found, SOMEONE) if found is not None else SOMEONE

    def actor(self, actor: str | None) -> str:
        """Who acted: a person by name, else the system."""
        found = _actor_user(actor)
        if found is not None:
            return self.users.get(found, SOMEONE)
        return "The matcher" if actor == "system" else "The service"


# Whom an announcement was to, as its programme's history says it (its words are not in its event).
AUDIENCES = {"everyone": "everyone taking part", "mentors": "the mentors", "mentees": "the mentees",
             "not_active": "the pairs not yet active"}


def line(event: OutboxEvent, names: Names) -> str:
    """The event as one sentence naming its people."""
    payload: dict[str, Any] = event.payload or {}
    who = names.actor(event.actor)
    kind = event.type
    pair = f"{names.mentor(payload.get('mentor_profile_id'))} and {names.user(payload.get('mentee_user_id'))}"
    person = names.user(payload.get("participant_user_id"))
    simple = {
        EventType.PROGRAMME_CREATED: f"{who} created the programme",
        EventType.PROGRAMME_ENROLMENT_OPENED: f"{who} opened enrolment",
        EventType.PROGRAMME_STARTED: f"{who} started the programme",
        EventType.PROGRAMME_CLOSED: f"{who} closed the programme",
        EventType.PROGRAMME_COORDINATORS_CHANGED: f"{who} named the coordinators",
        EventType.PROGRAMME_SETTINGS_CHANGED: f"{who} changed the settings",
        EventType.PROGRAMME_MATCHING_CHANGED: f"{who} changed how the programme pairs its people",
        EventType.PROGRAMME_INTAKE_FORM_CHANGED: f"{who} changed an intake form",
        EventType.ENROLMENT_LEFT: f"{person} left the programme",
        EventType.ENROLMENT_REMOVED: f"{who} took {person} off the programme",
        EventType.ENROLMENT_INTAKE_FINISHED: f"{person} finished their intake",
        EventType.ENROLMENT_INTAKE_ASKED: f"{person} was asked for their intake",
        EventType.PAIRING_PROPOSED: (f"{who} paired {names.mentor(payload.get('mentor_profile_id'))} with "
                                     f"{names.user(payload.get('mentee_user_id'))}"),
        EventType.PAIRING_ACTIVATED: f"The pairing of {pair} started: the mentor accepted its sessions",
        EventType.PAIRING_PAUSED: f"{who} paused the pairing of {pair}"
        + (f" until {payload['resume_on']}" if payload.get("resume_on") else ""),
        EventType.PAIRING_RESUMED: f"The pairing of {pair} went on, on the day its pause named"
        if event.actor == "system" else f"{who} resumed the pairing of {pair}",
        EventType.PAIRING_NOT_RESUMED: f"The pairing of {pair} could not go on on its day: {payload.get('reason')}",
        EventType.PAIRING_ENDED: f"{who} ended the pairing of {pair}",
        EventType.PAIRING_SURVEYED: f"{who} said how the pairing of {pair} went",
        EventType.GOAL_SET: f"{who} set the goal “{payload.get('title', '')}” for {pair}",
        EventType.GOAL_DONE: f"{pair} reached their goal “{payload.get('title', '')}”",
        EventType.GOAL_DROPPED: f"{who} dropped the goal “{payload.get('title', '')}” of {pair}",
        EventType.GOAL_REOPENED: f"{who} reopened the goal “{payload.get('title', '')}” of {pair}",
        EventType.MATCH_RUN_REQUESTED: f"{who} ran the match",
        EventType.MATCH_RUN_CANCELLED: f"{who} cancelled a match run",
        EventType.MATCH_RUN_FAILED: "A match run failed",
        EventType.ANNOUNCEMENT_POSTED: f"{who} posted an announcement to "
                                       f"{AUDIENCES.get(str(payload.get('audience')), 'its people')}",
    }
    if kind == EventType.ENROLMENT_JOINED:
        via = VIA.get(str(payload.get("via") or ""), "")
        return f"{person} joined as a {payload.get('role', 'participant')}{f' {via}' if via else ''}"
    if kind == EventType.MATCH_RUN_COMPLETED:
        matched, mentees = payload.get("matched"), payload.get("mentees")
        return (f"A match run finished: {matched} of {mentees} mentees matched" if matched is not None
                and mentees is not None else "A match run finished")
    found = next((text for event_type, text in simple.items() if event_type.value == kind), None)
    return found or f"{kind} by {who}"
