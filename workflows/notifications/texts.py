"""What each event tells whom: one row per event and party, ``message(key, title, body, link)``, filed under the role
(mentor, mentee) that reads it. Titles and bodies are declared texts (``workflows.language``) whose words
``workflows.notifications.messages`` fills from the event; times among them are written for each reader when read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from workflows.events import EventType
from workflows.language import text
from workflows.roles import Role
from workflows.wording import Notice, notice


class Link(StrEnum):
    """Where a notification leads in the web app."""

    SUBJECT = "subject"  # the session it is about, else the reader's requests (a mentor) or bookings (a mentee)
    LISTING = "listing"  # its listing: to take a seat offered, or to book again
    ANOTHER_TIME = "another_time"  # its listing to choose another time; a group seat's session


@dataclass(frozen=True)
class Message(Notice):
    """One party's notification of an event: its words (``workflows.wording.Notice``) and a link; who reads it is the
    role it is filed under."""

    link: Link = Link.SUBJECT


def message(key: str, title: str, body: str, link: Link = Link.SUBJECT, **plural: str) -> Message:
    """Declare one party's notification (its texts ``{key}.title`` and ``{key}.body``)."""
    words = notice(key, title, body, **plural)
    return Message(words.key, words.title, words.body, link)


# A move by agreement: to both.
MOVED = message("booking.moved", "Session moved",
                "{listing} with {other} moved from {previous} to {when}. It costs nothing.")
# Attendance (workflows.sessions.attendance): who was absent, by the session's ``absent``; a group seat's absence; a
# dispute of it, told to the other side; an administrator's answer, to both.
YOU_WERE_ABSENT = message("attendance.absent.mentee_you", "You were recorded absent", (
    "You were recorded absent from {listing} with {other} on {when}. If you were there, dispute it from the session "
    "page within {hours} hours; otherwise, as for a late cancellation, your bundle credit is used or the late fee is "
    "due once that time has passed."))
ABSENT: dict[str, dict[Role, Message]] = {
    "mentee": {Role.MENTOR: message("attendance.absent.mentee", "Mentee absent",
                                    "{other} was recorded absent from {listing} on {when}."),
               Role.MENTEE: YOU_WERE_ABSENT},
    "mentor": {Role.MENTEE: message("attendance.absent.mentor_missing", "Your mentor did not come", (
        "{other} did not come to {listing} on {when}. Unless they show within {hours} hours that they did, you pay "
        "nothing and your bundle credit comes back. Book another time from the link below."), Link.LISTING),
               Role.MENTOR: message("attendance.absent.mentor_you", "You were recorded absent", (
                   "You were recorded absent from {listing} with {other} on {when}; it counts in your statistics. "
                   "If you were there, dispute it from the session page within {hours} hours."))},
}
DISPUTED = message("attendance.disputed", "Attendance disputed",
                   "{other} disputes who was absent from {listing} on {when}{reason}. An administrator will decide.")
RESOLVED = message("attendance.resolved", "Attendance reviewed",
                   "An administrator reviewed who was absent from {listing} on {when}: {outcome}.")
FINAL = message("attendance.final", "Attendance final",
                "Who was absent from {listing} with {other} on {when} is final: {outcome}{cost}.")
OUTCOMES = {"mentee": text("attendance.outcome.mentee", "the mentee was absent"),
            "mentor": text("attendance.outcome.mentor", "the mentor was absent"),
            "none": text("attendance.outcome.none", "nobody was absent")}
# A series (workflows.bookings.series): the request to the mentor, the answer to the mentee; a withdrawal or a
# cancellation from a date on, to the side that did not make it.
SERIES_REQUESTED = message("series.requested", "New series request",
                           "{other} asks for {listing} {every}, {count} time from {when}.",
                           plural="{other} asks for {listing} {every}, {count} times from {when}.")
SERIES_ACCEPTED = message("series.accepted", "Series accepted",
                          "{other} accepted {count} meeting of {listing} {every} from {when}{skipped}.",
                          plural="{other} accepted {count} meetings of {listing} {every} from {when}{skipped}.")
SERIES_DECLINED = message("series.declined", "Series declined",
                          "{other} declined your series of {listing} from {when}{reason}.")
SERIES_WITHDRAWN = message("series.withdrawn", "Series request withdrawn",
                           "{other} withdrew the series request for {listing} from {when}.")
SERIES_CANCELLED = message("series.cancelled", "Series cancelled",
                           "{other} cancelled the meetings of {listing} from {since} on{reason}.")
# A listing booked instantly (no approval): the system's accept tells both, once; the request itself tells no one.
INSTANT: dict[EventType, dict[Role, Message]] = {
    EventType.BOOKING_ACCEPTED: {
        Role.MENTEE: message("booking.instant.mentee", "Booking confirmed",
                             "Your booking of {listing} with {other} on {when} is confirmed."),
        Role.MENTOR: message("booking.instant.mentor", "New booking", "{other} booked {listing} on {when}.")},
    EventType.BOOKING_SERIES_ACCEPTED: {
        Role.MENTEE: message("series.instant.mentee", "Series booked",
                             "Your {count} meeting of {listing} {every} from {when} is confirmed{skipped}.",
                             plural="Your {count} meetings of {listing} {every} from {when} are confirmed{skipped}."),
        Role.MENTOR: message("series.instant.mentor", "New series booked",
                             "{other} booked {count} meeting of {listing} {every} from {when}{skipped}.",
                             plural="{other} booked {count} meetings of {listing} {every} from {when}{skipped}.")},
}
INSTANT_TOLD = frozenset({EventType.BOOKING_REQUESTED, EventType.BOOKING_ACCEPTED, EventType.BOOKING_SERIES_REQUESTED,
                          EventType.BOOKING_SERIES_ACCEPTED})
# A place in line for a full group session (workflows.sessions.waitlists), to the mentee in line.
SEAT_OFFERED = message("waitlist.offered", "A seat is free for you", (
    "A seat in {listing} on {when} is held for you until {until}: take it from the listing, or it goes to the next "
    "in line."), Link.LISTING)
SEAT_GIVEN = message("waitlist.promoted", "You have a seat",
                     "You moved up from the waitlist: your seat in {listing} on {when} is booked.")
SEAT_GONE = message("waitlist.expired", "Waitlist place ended",
                    "Your place in line for {listing} on {when} ended without a seat{reason}.", Link.LISTING)
# Event type -> each told party's message. The body names the other person ({other}), the listing
# ({listing}), the time in the reader's timezone and locale ({when}), and a reason when one was given.
MESSAGES: dict[EventType, dict[Role, Message]] = {
    EventType.BOOKING_REQUESTED: {Role.MENTOR: message("booking.requested",
        "New booking request", "{other} asked for {listing} on {when}.")},
    EventType.BOOKING_ACCEPTED: {Role.MENTEE: message("booking.accepted",
        "Booking accepted", "{other} accepted your request for {listing} on {when}.")},
    EventType.BOOKING_DECLINED: {Role.MENTEE: message("booking.declined",
        "Booking declined", "{other} declined your request for {listing} on {when}{reason}.", Link.ANOTHER_TIME)},
    EventType.BOOKING_CANCELLED: {Role.MENTOR: message("booking.withdrawn",
        "Booking request withdrawn", "{other} withdrew the request for {listing} on {when}{reason}.")},
    EventType.BOOKING_EXPIRED: {
        Role.MENTOR: message("booking.expired.mentor", "Booking request expired",
                      "The request of {other} for {listing} on {when} expired before it was answered."),
        Role.MENTEE: message("booking.expired.mentee", "Booking request expired",
                             "Your request to {other} for {listing} on {when} expired before it was answered.",
                             Link.ANOTHER_TIME)},
    EventType.SESSION_CANCELLED: dict.fromkeys((Role.MENTOR, Role.MENTEE), message("session.cancelled",
        "Session cancelled", "{listing} with {other} on {when} was cancelled{reason}.")),
    EventType.SESSION_COMPLETED: {
        Role.MENTOR: message("session.completed.mentor", "Session completed",
                             "{listing} with {other} on {when} is complete."),
        Role.MENTEE: message("session.completed.mentee", "Session completed",
                             "{listing} with {other} on {when} is complete: you can review it now.")},
    EventType.SESSION_MISSED: dict.fromkeys((Role.MENTOR, Role.MENTEE), message("session.missed",
        "Session missed", "{listing} with {other} on {when} was never started.")),
    EventType.SESSION_UPDATED: {Role.MENTEE: message("session.updated",
        "Session details changed", "{other} changed the meeting link or agenda of {listing} on {when}.")},
    EventType.REVIEW_CREATED: {Role.MENTOR: message("review.created", "New review",
                                                    "A mentee rated your session {rating}/5.")},
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
    # A programme's coordinators: where it stands (Link.SUBJECT leads to the programme).
    EventType.PROGRAMME_CREATED: {Role.COORDINATOR: message("programme.created",
        "You coordinate a programme", "You were named a coordinator of {programme}, a draft until it opens.")},
    EventType.PROGRAMME_ENROLMENT_OPENED: {Role.COORDINATOR: message("programme.enrolment_opened",
        "Enrolment open", "{programme} takes participants now.")},
    EventType.PROGRAMME_STARTED: {Role.COORDINATOR: message("programme.started", "Programme running",
                                                            "{programme} is running.")},
    EventType.PROGRAMME_CLOSED: {Role.COORDINATOR: message("programme.closed", "Programme closed",
                                                           "{programme} is closed.")},
    EventType.PROGRAMME_COORDINATORS_CHANGED: {Role.COORDINATOR: message("programme.coordinators_changed",
        "Coordinators changed", "Who coordinates {programme} changed: see the programme for who does now.")},
    # A person's enrolment: they are told of a join and of a removal (of their own leave only when it cancelled
    # sessions: BY_PAYLOAD); its coordinators of a leave (a join shows in the programme's list and live, not in their
    # inbox: a cohort of hundreds joins in a day).
    EventType.ENROLMENT_JOINED: {Role.PARTICIPANT: message("enrolment.joined",
        "You joined a programme", "You take part in {programme} as {part}.")},
    EventType.ENROLMENT_REMOVED: {Role.PARTICIPANT: message("enrolment.removed",
        "You were taken off a programme", "A coordinator took you off {programme}.{sessions}")},
    # A pairing: its mentor and mentee (each reading the other's name), and its coordinators of how it goes; a move
    # that cancels sessions lists them ({sessions}: workflows.notifications.together).
    EventType.PAIRING_PROPOSED: {
        Role.MENTOR: message("pairing.proposed.mentor", "You are paired with a mentee",
                             "{programme} pairs you with {other}: accept the "
                             "sessions they ask for, from {when}, and the pairing starts."),
        Role.MENTEE: message("pairing.proposed.mentee", "You are paired with a mentor",
                             "{programme} pairs you with {other}; your sessions "
                             "are asked for from {when}, and start once your mentor accepts them.")},
    EventType.PAIRING_ACTIVATED: {
        Role.MENTEE: message("pairing.activated.mentee", "Your pairing has started",
                             "{other} accepted your sessions of {programme}: your pairing is active.{sessions}"),
        Role.COORDINATOR: message("pairing.activated.coordinator", "A pairing has started",
                                  "The pairing of {pair} in {programme} has started.")},
    EventType.PAIRING_PAUSED: dict.fromkeys((Role.MENTOR, Role.MENTEE), message("pairing.paused",
        "Pairing paused", "Your pairing with {other} in {programme} is on hold{reason}.{back}{sessions}")),
    EventType.PAIRING_RESUMED: dict.fromkeys((Role.MENTOR, Role.MENTEE), message("pairing.resumed",
        "Pairing resumed", "Your pairing with {other} in {programme} goes on: its remaining sessions are asked for "
                           "from {when}.")),
    EventType.PAIRING_NOT_RESUMED: {
        **dict.fromkeys((Role.MENTOR, Role.MENTEE), message("pairing.not_resumed.pair",
            "Pairing still paused", "Your pairing with {other} in {programme} was to go on today, but could not"
                                    "{reason}. It stays on hold: resume it when you are ready, or end it.")),
        Role.COORDINATOR: message("pairing.not_resumed.coordinator", "A pairing could not resume",
                                  "The pairing of {pair} in {programme} was to go on "
                                  "today, but could not{reason}. It stays on hold.")},
    # A pairing's goals: the pair are told of each move (the coordinators follow them on the programme's page).
    EventType.GOAL_SET: dict.fromkeys((Role.MENTOR, Role.MENTEE), message("goal.set",
        "A new goal", "Your pairing in {programme} has a new goal: {goal}.")),
    EventType.GOAL_DONE: dict.fromkeys((Role.MENTOR, Role.MENTEE), message("goal.done",
        "Goal reached", "Your pairing in {programme} reached its goal {goal}.")),
    EventType.GOAL_DROPPED: dict.fromkeys((Role.MENTOR, Role.MENTEE), message("goal.dropped",
        "Goal set aside", "Your pairing in {programme} set aside its goal {goal}.")),
    EventType.GOAL_REOPENED: dict.fromkeys((Role.MENTOR, Role.MENTEE), message("goal.reopened",
        "Goal reopened", "Your pairing in {programme} works on {goal} again.")),
    # A step of the pairing's plan: the pair are told (the coordinators follow the plan's progress on its page).
    EventType.PLAN_STEP_DONE: dict.fromkeys((Role.MENTOR, Role.MENTEE), message("plan.step_done",
        "A step of your plan is done", "Your pairing in {programme} did its step {step}.")),
    EventType.PLAN_STEP_SKIPPED: dict.fromkeys((Role.MENTOR, Role.MENTEE), message("plan.step_skipped",
        "A step of your plan is skipped", "Your pairing in {programme} skipped its step {step}{reason}.")),
    EventType.PLAN_STEP_REOPENED: dict.fromkeys((Role.MENTOR, Role.MENTEE), message("plan.step_reopened",
        "A step of your plan is to do again", "Your pairing in {programme} has its step {step} to do again.")),
    # A run of the matcher: its coordinators are told how it ended (its progress shows live, not in the inbox).
    EventType.MATCH_RUN_COMPLETED: {Role.COORDINATOR: message(
        "match_run.completed", "Match ready",
        "The match of {programme} is ready: {matched} of {mentees} mentee paired. Review it, then publish.",
        plural="The match of {programme} is ready: {matched} of {mentees} mentees paired. Review it, then publish.",
        count="mentees")},
    EventType.MATCH_RUN_FAILED: {Role.COORDINATOR: message("match_run.failed",
        "Match failed", "The match of {programme} could not finish: {error}. Run it again, or ask an operator.")},
}
# A series' times answered with it: its own event tells of them, once (a time the system settled because another
# request took it is told as any other).
ANSWERED_WITH_SERIES = frozenset({EventType.BOOKING_ACCEPTED, EventType.BOOKING_DECLINED, EventType.BOOKING_CANCELLED})
# A participant's leave: their coordinators are told; so are they, once, of the sessions it cancelled.
LEFT = message("enrolment.left.coordinator", "A participant left", "{person} left {programme}{reason}.")
YOU_LEFT = message("enrolment.left.participant", "You left a programme",
                   "You left {programme}: your pairings in it have ended.{sessions}")
# A pairing ended: the pair (but one whose leaving or removal ended it: their enrolment's message tells them) and
# its coordinators (not when a leave or a removal ended it: that tells them once).
PAIR_ENDED = message("pairing.ended.pair", "Pairing ended", (
    "Your pairing with {other} in {programme} has ended{reason}.{sessions}\n\nTell us how it went: a rating and a "
    "few words, on the programme's page."))
PAIRING_ENDED = message("pairing.ended.coordinator", "A pairing ended",
                        "The pairing of {pair} in {programme} has ended{reason}.")
# Whose words depend on the payload: who was absent; the side that did not raise a dispute.
# A participant asked to finish their intake: no one is paired with them before (a mentor also confirms their
# weekly hours, which are their profile's).
INTAKE_ASKED = {
    "mentor": message("enrolment.intake_asked.mentor", "Give your weekly hours",
                      "Before {programme} pairs you with anyone, confirm the weekly hours "
                      "you mentor in (and answer its intake) on the programme's page."),
    "mentee": message("enrolment.intake_asked.mentee", "Answer your intake",
                      "Before {programme} pairs you with a mentor, answer its intake on the "
                      "programme's page."),
}
BY_PAYLOAD: dict[EventType, Callable[[Mapping[str, Any]], dict[Role, Message]]] = {
    EventType.SESSION_NO_SHOW: lambda payload: ABSENT[payload["absent"]],
    EventType.ATTENDANCE_DISPUTED: lambda payload: {
        Role.MENTEE if payload["raised_by"] == Role.MENTOR else Role.MENTOR: DISPUTED},
    EventType.ENROLMENT_LEFT: lambda payload: {Role.COORDINATOR: LEFT, **(
        {Role.PARTICIPANT: YOU_LEFT} if payload.get("cancelled_session_ids") else {})},
    EventType.PAIRING_ENDED: lambda payload: {
        Role.MENTOR: PAIR_ENDED, Role.MENTEE: PAIR_ENDED, Role.COORDINATOR: PAIRING_ENDED} if not payload.get(
        "departed_user_id") else {Role.MENTOR if payload["departed_user_id"] == payload["mentee_user_id"] else
                                  Role.MENTEE: PAIR_ENDED},
    EventType.BOOKING_SERIES_CANCELLED: lambda payload: {Role.MENTOR: SERIES_WITHDRAWN}
    if payload["status"] == "withdrawn" else
    {Role.MENTEE if payload["cancelled_by"] == Role.MENTOR else Role.MENTOR: SERIES_CANCELLED},
    EventType.ENROLMENT_INTAKE_ASKED: lambda payload: {Role.PARTICIPANT: INTAKE_ASKED[payload["role"]]},
}
# A seat given up in a group session (booking.cancelled with its group session), as the mentor reads it.
SEAT_RELEASED = message("seat.released", "A seat was given up", "{other} left {listing} on {when}{reason}.")
# A seat a mentee took themself (booking.accepted of a group session, their own act): no request was answered.
SEAT_TAKEN = {Role.MENTEE: message("seat.taken.mentee", "You have a seat",
                                   "Your seat in {listing} on {when} is booked."),
              Role.MENTOR: message("seat.taken.mentor", "A seat was taken", "{other} joined {listing} on {when}.")}
# A group seat's own events, told in these words instead of a request's.
SEATS: dict[EventType, dict[Role, Message]] = {
    EventType.BOOKING_CANCELLED: {Role.MENTOR: SEAT_RELEASED}, EventType.BOOKING_ACCEPTED: SEAT_TAKEN}
# A request the system settled because its time was taken (its reason in the payload); the mentee is offered
# the listing's next free times.
SETTLED: dict[EventType, dict[Role, Message]] = {
    EventType.BOOKING_DECLINED: {Role.MENTEE: message("booking.declined.settled",
        "Booking declined", "Your request to {other} for {listing} on {when} was declined: {reason}. {next}",
        Link.ANOTHER_TIME)},
    EventType.BOOKING_CANCELLED: {
        Role.MENTEE: message("booking.withdrawn.settled.mentee", "Booking request withdrawn",
                             "Your request to {other} for {listing} on {when} was withdrawn: {reason}. {next}",
                             Link.ANOTHER_TIME),
        Role.MENTOR: message("booking.withdrawn.settled.mentor", "Booking request withdrawn", (
            "The request of {other} for {listing} on {when} was withdrawn: they have another session at this time."))},
}
# A proposal's news: to the side that did not cause it (proposals.*).
PROPOSALS: dict[EventType, tuple[Message, str]] = {  # the message, and who is told: "other", "proposer" or "both"
    EventType.RESCHEDULE_PROPOSED: (message("reschedule.proposed",
        "New time proposed", "{other} proposes to move {listing} on {when} to {times}{message}."), "other"),
    EventType.RESCHEDULE_REQUESTED: (message("reschedule.requested", "Please choose another time", (
        "{other} asks you to choose another time for {listing} on {when}{message}; or cancel it, at no cost. {next}")),
        "other"),
    EventType.RESCHEDULE_DECLINED: (message("reschedule.declined",
        "Proposal declined", "{other} declined to move {listing} on {when}: it stays then."), "proposer"),
    EventType.RESCHEDULE_WITHDRAWN: (message("reschedule.withdrawn",
        "Proposal withdrawn", "{other} withdrew the proposal to move {listing} on {when}."), "other"),
    EventType.RESCHEDULE_EXPIRED: (message("reschedule.expired",
        "Proposal closed", "The proposal to move {listing} on {when} is no longer open."), "both"),
}
# Every event type someone is told of: the notifications handler's (workflows.handlers).
NOTIFIED = (*MESSAGES, *BY_PAYLOAD, *PROPOSALS)
