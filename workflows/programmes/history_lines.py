"""A programme's history as its coordinators read it: one line per event naming the people and the pair ("Carla Diaz
paired Ada Okafor with Zoë Müller", "Rahul Mehta joined as a mentee by link"), a match run's progress folded into
its run's one line. Each line is a declared text, written in its reader's language.

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
from workflows.language import Text, text
from workflows.people import display_names
from workflows.wording import phrase, quoted, render

USER_PREFIX = "user:"
FOLDED = frozenset({EventType.MATCH_RUN_PROGRESS.value})  # a run's progress: its run's line says where it got
SOMEONE = text("history.someone", "Someone")
THE_MATCHER = text("history.the_matcher", "The matcher")
THE_SERVICE = text("history.the_service", "The service")
PAIR = text("history.pair", "{mentor} and {mentee}")


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
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
    """The display names of the people a page of events names: users by id, mentors by their profile (a word of a
    line: a name, or "Someone" in the reader's language)."""

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

    def user(self, value: Any) -> str | dict[str, Any]:
        found = _uuid(value)
        return self.users.get(found, phrase(SOMEONE)) if found is not None else phrase(SOMEONE)

    def mentor(self, value: Any) -> str | dict[str, Any]:
        found = _uuid(value)
        return self.mentors.get(found, phrase(SOMEONE)) if found is not None else phrase(SOMEONE)

    def actor(self, actor: str | None) -> str | dict[str, Any]:
        """Who acted: a person by name, else the system."""
        found = _actor_user(actor)
        if found is not None:
            return self.users.get(found, phrase(SOMEONE))
        return phrase(THE_MATCHER if actor == "system" else THE_SERVICE)


_SIMPLE: dict[str, Text] = {event_type.value: said for event_type, said in {
    EventType.PROGRAMME_CREATED: text("history.programme_created", "{who} created the programme"),
    EventType.PROGRAMME_ENROLMENT_OPENED: text("history.enrolment_opened", "{who} opened enrolment"),
    EventType.PROGRAMME_STARTED: text("history.programme_started", "{who} started the programme"),
    EventType.PROGRAMME_CLOSED: text("history.programme_closed", "{who} closed the programme"),
    EventType.PROGRAMME_COORDINATORS_CHANGED: text("history.coordinators_changed", "{who} named the coordinators"),
    EventType.PROGRAMME_SETTINGS_CHANGED: text("history.settings_changed", "{who} changed the settings"),
    EventType.PROGRAMME_MATCHING_CHANGED: text("history.matching_changed",
                                               "{who} changed how the programme pairs its people"),
    EventType.PROGRAMME_INTAKE_FORM_CHANGED: text("history.intake_form_changed", "{who} changed an intake form"),
    EventType.PROGRAMME_PLAN_CHANGED: text("history.plan_changed", "{who} changed the plan for the term"),
    EventType.PROGRAMME_PLAN_APPLIED: text("history.plan_applied",
                                           "{who} applied the plan to the pairings under way"),
    EventType.PROGRAMME_LIBRARY_CHANGED: text("history.library_changed", "{who} changed the library of resources"),
    EventType.ENROLMENT_LEFT: text("history.left", "{person} left the programme"),
    EventType.ENROLMENT_REMOVED: text("history.removed", "{who} took {person} off the programme"),
    EventType.ENROLMENT_INTAKE_FINISHED: text("history.intake_finished", "{person} finished their intake"),
    EventType.ENROLMENT_INTAKE_ASKED: text("history.intake_asked", "{person} was asked for their intake"),
    EventType.PAIRING_PROPOSED: text("history.paired", "{who} paired {mentor} with {mentee}"),
    EventType.PAIRING_ACTIVATED: text("history.pairing_started",
                                      "The pairing of {pair} started: the mentor accepted its sessions"),
    EventType.PAIRING_NOT_RESUMED: text("history.pairing_not_resumed",
                                        "The pairing of {pair} could not go on on its day: {reason}"),
    EventType.PAIRING_ENDED: text("history.pairing_ended", "{who} ended the pairing of {pair}"),
    EventType.PAIRING_SURVEYED: text("history.pairing_surveyed", "{who} said how the pairing of {pair} went"),
    EventType.GOAL_SET: text("history.goal_set", "{who} set the goal {goal} for {pair}"),
    EventType.GOAL_DONE: text("history.goal_done", "{pair} reached their goal {goal}"),
    EventType.GOAL_DROPPED: text("history.goal_dropped", "{who} dropped the goal {goal} of {pair}"),
    EventType.GOAL_REOPENED: text("history.goal_reopened", "{who} reopened the goal {goal} of {pair}"),
    EventType.PLAN_STEP_DONE: text("history.plan_step_done", "{who} ticked off the step {goal} of {pair}"),
    EventType.PLAN_STEP_SKIPPED: text("history.plan_step_skipped", "{who} skipped the step {goal} of {pair}"),
    EventType.PLAN_STEP_REOPENED: text("history.plan_step_reopened",
                                       "{who} put the step {goal} of {pair} back to do"),
    EventType.MATCH_RUN_REQUESTED: text("history.match_run_requested", "{who} ran the match"),
    EventType.MATCH_RUN_CANCELLED: text("history.match_run_cancelled", "{who} cancelled a match run"),
    EventType.MATCH_RUN_FAILED: text("history.match_run_failed", "A match run failed"),
}.items()}
PAUSED = text("history.pairing_paused", "{who} paused the pairing of {pair}")
PAUSED_UNTIL = text("history.pairing_paused_until", "{who} paused the pairing of {pair} until {resume_on}")
RESUMED = text("history.pairing_resumed", "{who} resumed the pairing of {pair}")
RESUMED_ON_ITS_DAY = text("history.pairing_resumed_on_its_day",
                          "The pairing of {pair} went on, on the day its pause named")
# Who joined, as what, and how (an invitation, a join link, their organisation's sign-in, or none said).
JOINED = {
    ("mentor", "invitation"): text("history.joined.mentor.invitation", "{person} joined as a mentor by invitation"),
    ("mentor", "link"): text("history.joined.mentor.link", "{person} joined as a mentor by link"),
    ("mentor", "sign_on"): text("history.joined.mentor.sign_on",
                                "{person} joined as a mentor through their organisation's sign-in"),
    ("mentor", ""): text("history.joined.mentor", "{person} joined as a mentor"),
    ("mentee", "invitation"): text("history.joined.mentee.invitation", "{person} joined as a mentee by invitation"),
    ("mentee", "link"): text("history.joined.mentee.link", "{person} joined as a mentee by link"),
    ("mentee", "sign_on"): text("history.joined.mentee.sign_on",
                                "{person} joined as a mentee through their organisation's sign-in"),
    ("mentee", ""): text("history.joined.mentee", "{person} joined as a mentee"),
}
JOINED_OTHERWISE = text("history.joined", "{person} joined the programme")
RUN_FINISHED = text("history.match_run_finished", "A match run finished")
RUN_MATCHED = text("history.match_run_matched", "A match run finished: {matched} of {count} mentee matched",
                   plural="A match run finished: {matched} of {count} mentees matched")
# Whom an announcement was to, as its programme's history says it (its words are not in its event).
ANNOUNCED = {
    "everyone": text("history.announced.everyone", "{who} posted an announcement to everyone taking part"),
    "mentors": text("history.announced.mentors", "{who} posted an announcement to the mentors"),
    "mentees": text("history.announced.mentees", "{who} posted an announcement to the mentees"),
    "not_active": text("history.announced.not_active", "{who} posted an announcement to the pairs not yet active"),
}
ANNOUNCED_OTHERWISE = text("history.announced", "{who} posted an announcement to its people")
OTHER = text("history.other", "{kind} by {who}")


def line(event: OutboxEvent, names: Names, locale: str | None) -> str:
    """The event as one sentence naming its people, in the language of ``locale``."""
    said, words = _said(event, names)
    return render(said, words, None, locale)


def _said(event: OutboxEvent, names: Names) -> tuple[Text, dict[str, Any]]:
    payload: dict[str, Any] = event.payload or {}
    kind = event.type
    if kind == EventType.MATCH_RUN_COMPLETED:
        matched, mentees = payload.get("matched"), payload.get("mentees")
        if isinstance(matched, int) and isinstance(mentees, int):
            return RUN_MATCHED, {"matched": matched, "count": mentees}
        return RUN_FINISHED, {}
    mentor, mentee = names.mentor(payload.get("mentor_profile_id")), names.user(payload.get("mentee_user_id"))
    words: dict[str, Any] = {
        "who": names.actor(event.actor), "person": names.user(payload.get("participant_user_id")),
        "mentor": mentor, "mentee": mentee, "pair": phrase(PAIR, mentor=mentor, mentee=mentee),
        "goal": quoted(str(payload.get("title", ""))), "reason": str(payload.get("reason") or ""),
        "resume_on": str(payload.get("resume_on") or ""), "kind": kind,
    }
    chosen = {
        EventType.ENROLMENT_JOINED.value: JOINED.get((str(payload.get("role")), str(payload.get("via") or "")),
                                                     JOINED_OTHERWISE),
        EventType.PAIRING_PAUSED.value: PAUSED_UNTIL if payload.get("resume_on") else PAUSED,
        EventType.PAIRING_RESUMED.value: RESUMED_ON_ITS_DAY if event.actor == "system" else RESUMED,
        EventType.ANNOUNCEMENT_POSTED.value: ANNOUNCED.get(str(payload.get("audience")), ANNOUNCED_OTHERWISE),
    }
    return chosen.get(kind) or _SIMPLE.get(kind, OTHER), words
