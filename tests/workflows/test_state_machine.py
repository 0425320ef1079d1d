"""The state machines, every one of them (bookings, sessions, series, reschedule proposals, team invitations, places
in line, attendance disputes, calendar connections, programmes, participations, pairings, goals, match runs): every
(status, action, role) either moves as the table says or is refused with the error the API turns into 403 (wrong
party) or 400 (wrong status); who takes part in a record; and constraint violations told apart by name."""

from __future__ import annotations

import ast
import itertools
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.errors import status_for
from models import (
    AttendanceDispute,
    Booking,
    BookingSeries,
    BookingStatus,
    CalendarConnection,
    ConnectionStatus,
    DisputeStatus,
    GoalStatus,
    InvitationStatus,
    ListingKind,
    MatchRun,
    MatchRunStatus,
    MentorshipSession,
    Pairing,
    PairingGoal,
    PairingStatus,
    PairingStep,
    ParticipantStatus,
    Programme,
    ProgrammeParticipant,
    ProgrammeStatus,
    ProposalStatus,
    RescheduleProposal,
    SeriesStatus,
    SessionStatus,
    StepStatus,
    TeamInvitation,
    WaitlistEntry,
    WaitlistStatus,
)
from models.bookings.bookings import ACCEPTED_OVERLAP, GROUP_SEAT
from tests.factories.accounts import UserFactory
from tests.factories.bookings import BookingFactory
from tests.factories.mentors import ListingFactory
from tests.factories.sessions import GroupSessionFactory
from workflows.actors import Actor
from workflows.bookings.lifecycle import BOOKINGS, PROPOSALS
from workflows.bookings.series import SERIES
from workflows.calendars.accounts import CONNECTIONS
from workflows.errors import Forbidden, InvalidTransition, NotFound, violated_constraint
from workflows.matching.lifecycle import RUNS
from workflows.mentors.invitations import INVITATIONS
from workflows.programmes.enrolment import PARTICIPATIONS
from workflows.programmes.goals import GOALS
from workflows.programmes.lifecycle import PROGRAMMES
from workflows.programmes.pairings import PAIRINGS
from workflows.programmes.plan_steps import STEPS
from workflows.roles import Role
from workflows.sessions.attendance import DISPUTES
from workflows.sessions.lifecycle import SESSIONS
from workflows.sessions.waitlists import PLACES

B, S = BookingStatus, SessionStatus
MENTOR, MENTEE, SYSTEM, ADMIN = Role.MENTOR, Role.MENTEE, Role.SYSTEM, Role.ADMIN
COORDINATOR = Role.COORDINATOR

# The rules as the product states them, written out apart from the tables they check:
# (from, action, by) -> to. Everything not listed must be refused.
BOOKING_MOVES = {
    (B.DRAFT, "accept", MENTOR): B.ACCEPTED,
    (B.DRAFT, "accept", SYSTEM): B.ACCEPTED,  # a request of a listing booked instantly, in its own transaction
    (B.DRAFT, "decline", MENTOR): B.DECLINED,
    (B.DRAFT, "decline", SYSTEM): B.DECLINED,  # a request whose time the mentor's accept or group session took
    (B.DRAFT, "cancel", MENTEE): B.CANCELLED,
    (B.DRAFT, "cancel", SYSTEM): B.CANCELLED,  # withdrawn: the mentee's own accepted booking or seat took its time
    (B.DRAFT, "expire", SYSTEM): B.EXPIRED,
    (B.ACCEPTED, "end_with_session", SYSTEM): B.CANCELLED,
    (B.DRAFT, "accept_checked", MENTOR): B.ACCEPTED,  # a series' times, checked together by its accept
    (B.DRAFT, "accept_checked", SYSTEM): B.ACCEPTED,  # the times of a series booked instantly
    (B.ACCEPTED, "reschedule", MENTOR): B.RESCHEDULED,  # accepting the mentee's proposal of another time
    (B.ACCEPTED, "reschedule", MENTEE): B.RESCHEDULED,  # accepting the mentor's
}
SESSION_MOVES = {
    (S.SCHEDULED, "start", MENTOR): S.IN_PROGRESS,
    (S.SCHEDULED, "start", MENTEE): S.IN_PROGRESS,
    (S.IN_PROGRESS, "complete", MENTOR): S.COMPLETED,
    (S.IN_PROGRESS, "complete", SYSTEM): S.COMPLETED,
    (S.SCHEDULED, "cancel", MENTOR): S.CANCELLED,
    (S.SCHEDULED, "cancel", MENTEE): S.CANCELLED,
    (S.SCHEDULED, "cancel", ADMIN): S.CANCELLED,  # an administrator, on someone else's session
    (S.SCHEDULED, "cancel", SYSTEM): S.CANCELLED,  # its booking was moved by agreement
    (S.SCHEDULED, "cancel", COORDINATOR): S.CANCELLED,  # its pairing paused or ended, one of the pair taken off
    (S.SCHEDULED, "miss", SYSTEM): S.MISSED,
    (S.SCHEDULED, "close", SYSTEM): S.COMPLETED,  # both checked in, nobody pressed start, its time is over
    # Someone did not come: reported by the other side, who came, or found by the system once the time is over.
    (S.SCHEDULED, "mentee_no_show", MENTOR): S.MENTEE_NO_SHOW,
    (S.SCHEDULED, "mentee_no_show", SYSTEM): S.MENTEE_NO_SHOW,
    (S.IN_PROGRESS, "mentee_no_show", MENTOR): S.MENTEE_NO_SHOW,
    (S.IN_PROGRESS, "mentee_no_show", SYSTEM): S.MENTEE_NO_SHOW,
    (S.SCHEDULED, "mentor_no_show", MENTEE): S.MENTOR_NO_SHOW,
    (S.SCHEDULED, "mentor_no_show", SYSTEM): S.MENTOR_NO_SHOW,
    (S.IN_PROGRESS, "mentor_no_show", MENTEE): S.MENTOR_NO_SHOW,
    (S.IN_PROGRESS, "mentor_no_show", SYSTEM): S.MENTOR_NO_SHOW,
}
R = SeriesStatus
SERIES_MOVES = {
    (R.REQUESTED, "accept", MENTOR): R.ACCEPTED,
    (R.REQUESTED, "accept", SYSTEM): R.ACCEPTED,  # a series of a listing booked instantly, with its request
    (R.REQUESTED, "decline", MENTOR): R.DECLINED,
    (R.REQUESTED, "withdraw", MENTEE): R.WITHDRAWN,
    (R.ACCEPTED, "cancel", MENTOR): R.ACCEPTED,  # this time and all following; others are still to come
    (R.ACCEPTED, "cancel", MENTEE): R.ACCEPTED,
    (R.ACCEPTED, "end", MENTOR): R.ENDED,  # cancelled from some date on, with nothing left to come
    (R.ACCEPTED, "end", MENTEE): R.ENDED,
    # A pairing's series, as its coordinator (or an admin) pauses or ends the pairing.
    (R.ACCEPTED, "cancel", COORDINATOR): R.ACCEPTED,
    (R.ACCEPTED, "cancel", ADMIN): R.ACCEPTED,
    (R.ACCEPTED, "end", COORDINATOR): R.ENDED,
    (R.ACCEPTED, "end", ADMIN): R.ENDED,
}
# Who a refusal names: the people who may act, the system only when nobody else may.
WHO_MAY = {
    ("booking", "accept"): "mentor", ("booking", "decline"): "mentor", ("booking", "cancel"): "mentee",
    ("booking", "expire"): "system", ("booking", "end_with_session"): "system", ("booking", "accept_checked"): "mentor",
    ("booking", "reschedule"): "mentor or the mentee",
    ("session", "start"): "mentor or the mentee", ("session", "complete"): "mentor",
    ("session", "cancel"): "mentor or the mentee or the admin or the coordinator", ("session", "miss"): "system",
    ("session", "close"): "system", ("session", "mentee_no_show"): "mentor",
    ("session", "mentor_no_show"): "mentee",
    ("booking series", "accept"): "mentor", ("booking series", "decline"): "mentor",
    ("booking series", "withdraw"): "mentee",
    ("booking series", "cancel"): "mentor or the mentee or the admin or the coordinator",
    ("booking series", "end"): "mentor or the mentee or the admin or the coordinator",
}
# What a refusal says for an action whose identifier is no English verb; clients read the identifier.
VERBS = {"mentee_no_show": "report the mentee absent from", "mentor_no_show": "report the mentor absent from",
         "end_with_session": "end with its session", "accept_checked": "accept", "break": "mark broken",
         "mend": "give new credentials to"}
P, INV, W, D = ProposalStatus, InvitationStatus, WaitlistStatus, DisputeStatus
PROPOSAL_MOVES = {
    **{(P.OPEN, action, role): target for action, target in (("accept", P.ACCEPTED), ("decline", P.DECLINED),
                                                             ("withdraw", P.WITHDRAWN))
       for role in (MENTOR, MENTEE)},  # which of the two may: the proposal's own rule (proposer or not)
    (P.OPEN, "expire", SYSTEM): P.EXPIRED,  # past its time, or its booking ended
}
INVITATION_MOVES = {
    (INV.PENDING, "accept", MENTOR): INV.ACCEPTED, (INV.PENDING, "decline", MENTOR): INV.DECLINED,
    (INV.PENDING, "withdraw", MENTOR): INV.WITHDRAWN,  # the owner set a team without them
}
PLACE_MOVES = {
    (W.WAITING, "offer", SYSTEM): W.OFFERED,
    **{(status, action, role): target for status in (W.WAITING, W.OFFERED) for action, target, roles in (
        ("leave", W.LEFT, (MENTEE,)), ("promote", W.PROMOTED, (MENTEE, SYSTEM)), ("expire", W.EXPIRED, (SYSTEM,)),
        ("close", W.CLOSED, (SYSTEM,))) for role in roles},
}
DISPUTE_MOVES = {(D.OPEN, "resolve", ADMIN): D.RESOLVED}
C = ConnectionStatus
CONNECTION_MOVES = {
    (C.CONNECTING, "connect", MENTOR): C.ACTIVE,  # its server answered what it holds
    (C.ACTIVE, "break", SYSTEM): C.BROKEN,  # a sync found the credentials refused
    (C.ACTIVE, "mend", MENTOR): C.ACTIVE, (C.BROKEN, "mend", MENTOR): C.ACTIVE,  # new credentials
}
M = MatchRunStatus
MATCH_RUN_MOVES = {
    **{(M.QUEUED, "cancel", role): M.CANCELLED for role in (COORDINATOR, ADMIN)},  # at once, while it waits
    **{(M.RUNNING, "cancel_running", role): M.RUNNING for role in (COORDINATOR, ADMIN)},  # its worker hears it
    (M.QUEUED, "claim", SYSTEM): M.RUNNING,
    (M.RUNNING, "take_over", SYSTEM): M.RUNNING,  # its worker was lost past the time limit
    (M.RUNNING, "stop", SYSTEM): M.CANCELLED,  # the worker heard the cancel
    (M.RUNNING, "complete", SYSTEM): M.DONE,
    (M.RUNNING, "fail", SYSTEM): M.FAILED,
}
WHO_MAY |= {
    ("match run", "cancel"): "admin or the coordinator", ("match run", "cancel_running"): "admin or the coordinator",
    ("match run", "claim"): "system", ("match run", "take_over"): "system", ("match run", "stop"): "system",
    ("match run", "complete"): "system", ("match run", "fail"): "system",
}
VERBS |= {"cancel_running": "cancel", "take_over": "take over"}
WHO_MAY |= {
    ("proposal", "accept"): "mentor or the mentee", ("proposal", "decline"): "mentor or the mentee",
    ("proposal", "withdraw"): "mentor or the mentee", ("proposal", "expire"): "system",
    ("invitation", "accept"): "mentor", ("invitation", "decline"): "mentor", ("invitation", "withdraw"): "mentor",
    ("place in line", "offer"): "system", ("place in line", "leave"): "mentee",
    ("place in line", "promote"): "mentee", ("place in line", "expire"): "system",
    ("place in line", "close"): "system", ("dispute", "resolve"): "admin",
    ("calendar connection", "connect"): "mentor", ("calendar connection", "break"): "system",
    ("calendar connection", "mend"): "mentor",
}
PR, PA, PG, G = ProgrammeStatus, ParticipantStatus, PairingStatus, GoalStatus
PROGRAMME_MOVES = {
    **{(PR.DRAFT, "open_enrolment", role): PR.ENROLLING for role in (COORDINATOR, ADMIN)},
    # A programme whose pairs are made by hand may start without an enrolment of its own.
    **{(status, "start", role): PR.RUNNING for status in (PR.DRAFT, PR.ENROLLING) for role in (COORDINATOR, ADMIN)},
    **{(status, "close", role): PR.CLOSED for status in (PR.DRAFT, PR.ENROLLING, PR.RUNNING)
       for role in (COORDINATOR, ADMIN)},
}
PARTICIPATION_MOVES = {
    (PA.ACTIVE, "leave", Role.PARTICIPANT): PA.LEFT,  # their own leave
    **{(status, "remove", role): PA.REMOVED for status in (PA.ACTIVE, PA.LEFT) for role in (COORDINATOR, ADMIN)},
}
_PAIR_AND_RUNNERS = (MENTOR, MENTEE, COORDINATOR, ADMIN)
PAIRING_MOVES = {
    (PG.PROPOSED, "activate", SYSTEM): PG.ACTIVE,  # the mentor accepted its sessions
    **{(PG.ACTIVE, "pause", role): PG.PAUSED for role in _PAIR_AND_RUNNERS},
    # Its sessions asked for again; the system: on the day its pause named.
    **{(PG.PAUSED, "resume", role): PG.PROPOSED for role in (*_PAIR_AND_RUNNERS, SYSTEM)},
    **{(status, "end", role): PG.ENDED for status in (PG.PROPOSED, PG.ACTIVE, PG.PAUSED)
       for role in (*_PAIR_AND_RUNNERS, SYSTEM)},  # the system: the mentor declined its sessions
}
GOAL_MOVES = {
    **{(G.OPEN, "complete", role): G.DONE for role in _PAIR_AND_RUNNERS},
    **{(G.OPEN, "drop", role): G.DROPPED for role in _PAIR_AND_RUNNERS},
    **{(status, "reopen", role): G.OPEN for status in (G.DONE, G.DROPPED) for role in _PAIR_AND_RUNNERS},
}
STEP_MOVES = {
    **{(StepStatus.TODO, action, role): target for action, target in (("done", StepStatus.DONE),
                                                                      ("skip", StepStatus.SKIPPED))
       for role in _PAIR_AND_RUNNERS},
    **{(status, "reopen", role): StepStatus.TODO for status in (StepStatus.DONE, StepStatus.SKIPPED)
       for role in _PAIR_AND_RUNNERS},
}
_PEOPLE = "mentor or the mentee or the admin or the coordinator"
WHO_MAY |= {
    ("programme", "open_enrolment"): "admin or the coordinator", ("programme", "start"): "admin or the coordinator",
    ("programme", "close"): "admin or the coordinator",
    ("participation", "leave"): "participant", ("participation", "remove"): "admin or the coordinator",
    ("pairing", "activate"): "system", ("pairing", "pause"): _PEOPLE, ("pairing", "resume"): _PEOPLE,
    ("pairing", "end"): _PEOPLE,
    ("goal", "complete"): _PEOPLE, ("goal", "drop"): _PEOPLE, ("goal", "reopen"): _PEOPLE,
    ("plan step", "done"): _PEOPLE, ("plan step", "skip"): _PEOPLE, ("plan step", "reopen"): _PEOPLE,
}
VERBS |= {"open_enrolment": "open enrolment of", "done": "tick off"}
MACHINES: dict[str, tuple[Any, Any, dict[Any, Any]]] = {
    "booking": (BookingStatus, BOOKINGS, BOOKING_MOVES),
    "session": (SessionStatus, SESSIONS, SESSION_MOVES),
    "booking series": (SeriesStatus, SERIES, SERIES_MOVES),
    "proposal": (ProposalStatus, PROPOSALS, PROPOSAL_MOVES),
    "invitation": (InvitationStatus, INVITATIONS, INVITATION_MOVES),
    "place in line": (WaitlistStatus, PLACES, PLACE_MOVES),
    "dispute": (DisputeStatus, DISPUTES, DISPUTE_MOVES),
    "calendar connection": (ConnectionStatus, CONNECTIONS, CONNECTION_MOVES),
    "programme": (ProgrammeStatus, PROGRAMMES, PROGRAMME_MOVES),
    "participation": (ParticipantStatus, PARTICIPATIONS, PARTICIPATION_MOVES),
    "pairing": (PairingStatus, PAIRINGS, PAIRING_MOVES),
    "goal": (GoalStatus, GOALS, GOAL_MOVES),
    "plan step": (StepStatus, STEPS, STEP_MOVES),
    "match run": (MatchRunStatus, RUNS, MATCH_RUN_MOVES),
}


def _record(kind: str, status: Any) -> Any:
    return {"booking": Booking, "session": MentorshipSession, "booking series": BookingSeries,
            "proposal": RescheduleProposal, "invitation": TeamInvitation, "place in line": WaitlistEntry,
            "dispute": AttendanceDispute, "calendar connection": CalendarConnection, "programme": Programme,
            "participation": ProgrammeParticipant, "pairing": Pairing, "goal": PairingGoal, "plan step": PairingStep,
            "match run": MatchRun}[kind](status=status)


def _cases() -> list[tuple[str, str, str, Role]]:
    return [(kind, status, action, role) for kind, (statuses, machine, _moves) in MACHINES.items()
            for status, action, role in itertools.product(statuses, machine.transitions, Role)]


def _machines_declared(root: Path) -> dict[str, str]:
    """Every ``StateMachine("<kind>", …)`` the domain declares under ``root``: kind -> the module declaring it."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "StateMachine" \
                    and node.args and isinstance(node.args[0], ast.Constant):
                found[node.args[0].value] = str(path.relative_to(root.parent))
    return found


def test_every_machine_the_domain_declares_is_checked_here() -> None:
    declared = _machines_declared(Path(__file__).resolve().parents[2] / "workflows")
    assert set(declared) == set(MACHINES), f"add to MACHINES: {sorted(set(declared) - set(MACHINES))}"
    assert all(machine.kind == kind for kind, (_statuses, machine, _moves) in MACHINES.items())
    assert len(MACHINES) == 14


def test_the_machine_scan_sees_a_planted_machine(tmp_path: Path) -> None:
    (tmp_path / "workflows" / "loans").mkdir(parents=True)
    (tmp_path / "workflows" / "loans" / "lifecycle.py").write_text(
        'LOANS = StateMachine("loan", Loan, {})\nOTHER = machine("not one")\n')
    assert _machines_declared(tmp_path / "workflows") == {"loan": str(Path("workflows/loans/lifecycle.py"))}


def test_the_tables_have_exactly_the_actions_of_the_rules() -> None:
    for _statuses, machine, moves in MACHINES.values():
        assert set(machine.transitions) == {action for _, action, _ in moves}


@pytest.mark.parametrize(("kind", "status", "action", "role"), _cases())
def test_every_status_action_and_role_moves_or_is_refused_with_the_right_error(
        kind: str, status: str, action: str, role: Role) -> None:
    _statuses, machine, moves = MACHINES[kind]
    record = _record(kind, status)
    allowed_roles = {r for (_, a, r) in moves if a == action}
    target = moves.get((status, action, role))
    if target is not None:
        machine.apply(record, action, role)
        assert record.status == target
        return
    if role not in allowed_roles:
        with pytest.raises(Forbidden) as refused:
            machine.apply(record, action, role)
        assert refused.value.message == f"only the {WHO_MAY[kind, action]} can {VERBS.get(action, action)} this {kind}"
        assert status_for(refused.value) == 403
    else:
        with pytest.raises(InvalidTransition) as refused:
            machine.apply(record, action, role)
        article = "an" if kind[0] in "aeiou" else "a"
        assert refused.value.message == f"cannot {VERBS.get(action, action)} {article} {kind} that is {status}"
        assert refused.value.details == {"current_status": status, "action": action}
        assert status_for(refused.value) == 400
    assert record.status == status, "a refused move leaves the status as it was"


def test_each_action_records_the_event_its_row_names() -> None:
    assert {action: t.event for action, t in BOOKINGS.transitions.items()} == {
        "accept": "booking.accepted", "decline": "booking.declined", "cancel": "booking.cancelled",
        "expire": "booking.expired", "end_with_session": None,  # its session's cancellation tells of it
        "accept_checked": "booking.accepted",
        "reschedule": None}  # the new booking's booking.rescheduled tells of it
    assert {action: t.event for action, t in SESSIONS.transitions.items()} == {
        "start": "session.started", "complete": "session.completed", "cancel": "session.cancelled",
        "miss": "session.missed", "close": "session.completed", "mentee_no_show": "session.no_show",
        "mentor_no_show": "session.no_show"}
    assert {action: t.event for action, t in SERIES.transitions.items()} == {
        "accept": "booking_series.accepted", "decline": "booking_series.declined",
        "withdraw": "booking_series.cancelled", "cancel": "booking_series.cancelled", "end": "booking_series.cancelled"}
    assert {action: t.event for action, t in PROGRAMMES.transitions.items()} == {
        "open_enrolment": "programme.enrolment_opened", "start": "programme.started", "close": "programme.closed"}
    assert {action: t.event for action, t in PARTICIPATIONS.transitions.items()} == {
        "leave": "enrolment.left", "remove": "enrolment.removed"}
    assert {action: t.event for action, t in PAIRINGS.transitions.items()} == {
        "activate": "pairing.activated", "pause": "pairing.paused", "resume": "pairing.resumed", "end": "pairing.ended"}
    assert {action: t.event for action, t in GOALS.transitions.items()} == {
        "complete": "goal.done", "drop": "goal.dropped", "reopen": "goal.reopened"}
    assert {action: t.event for action, t in STEPS.transitions.items()} == {
        "done": "plan.step_done", "skip": "plan.step_skipped", "reopen": "plan.step_reopened"}
    assert {action: t.event for action, t in RUNS.transitions.items()} == {
        "cancel": "match_run.cancelled", "cancel_running": None,  # the worker's stop tells of it, once heard
        "claim": "match_run.progress", "take_over": "match_run.progress", "stop": "match_run.cancelled",
        "complete": "match_run.completed", "fail": "match_run.failed"}


def test_check_refuses_like_apply_but_moves_nothing() -> None:
    session = MentorshipSession(status=SessionStatus.SCHEDULED)
    assert SESSIONS.check(session, "cancel", Role.MENTEE).target == SessionStatus.CANCELLED
    assert session.status == SessionStatus.SCHEDULED
    with pytest.raises(InvalidTransition):
        SESSIONS.check(MentorshipSession(status=SessionStatus.COMPLETED), "cancel", Role.MENTEE)


def _actor(user_id: uuid.UUID, mentor_profile_id: uuid.UUID | None = None, *, admin: bool = False) -> Actor:
    return Actor(user_id=user_id, is_admin=admin, mentor_profile_id=mentor_profile_id)


def test_who_takes_part_in_a_booking_and_who_may_load_it(db: Session) -> None:
    booking = BookingFactory()
    mentor = _actor(booking.listing.mentor_profile.user_id, booking.mentor_profile_id)
    mentee = _actor(booking.mentee_user_id)
    stranger = _actor(UserFactory().id)
    admin = _actor(UserFactory(is_admin=True).id, admin=True)
    assert BOOKINGS.role_of(db, mentor, booking) == Role.MENTOR
    assert BOOKINGS.role_of(db, mentee, booking) == Role.MENTEE
    assert BOOKINGS.role_of(db, stranger, booking) is None
    assert BOOKINGS.get_visible(db, mentee, booking.id) is booking
    assert BOOKINGS.get_visible(db, admin, booking.id) is booking  # an admin may read
    assert BOOKINGS.load_to_act(db, mentor, booking.id) == (booking, Role.MENTOR)
    for outsider, lock in ((stranger, False), (stranger, True), (admin, True)):
        with pytest.raises(NotFound, match="booking not found"):
            BOOKINGS.get_visible(db, outsider, booking.id, lock=lock)
    with pytest.raises(NotFound):
        BOOKINGS.load_to_act(db, admin, booking.id)  # an admin may not act on others' bookings
    with pytest.raises(NotFound):
        BOOKINGS.get_visible(db, mentee, uuid.uuid4())


def test_a_seat_makes_a_mentee_of_a_group_session_until_given_up(db: Session) -> None:
    listing = ListingFactory(kind=ListingKind.GROUP, capacity=3)
    start = datetime.now(UTC) + timedelta(days=3)
    session = GroupSessionFactory(listing=listing, start_time=start)
    seat = BookingFactory(listing=listing, start_time=start, status=BookingStatus.ACCEPTED,
                          group_session_id=session.id)
    holder = _actor(seat.mentee_user_id)
    assert SESSIONS.role_of(db, holder, session) == Role.MENTEE
    assert SESSIONS.role_of(db, _actor(UserFactory().id), session) is None
    seat.status = BookingStatus.CANCELLED  # gave the seat up; the session goes on without them
    db.flush()
    assert SESSIONS.role_of(db, holder, session) is None
    with pytest.raises(NotFound, match="session not found"):
        SESSIONS.get_visible(db, holder, session.id)
    stayed = BookingFactory(listing=listing, start_time=start, status=BookingStatus.ACCEPTED,
                            group_session_id=session.id)
    # The mentor called it off, ending the seats held then: their holders may still read what happened; one who gave
    # theirs up before may not.
    session.status = SessionStatus.CANCELLED
    stayed.status, stayed.ended_with_session = BookingStatus.CANCELLED, True
    db.flush()
    assert SESSIONS.role_of(db, _actor(stayed.mentee_user_id), session) == Role.MENTEE
    assert SESSIONS.role_of(db, holder, session) is None


def test_constraint_violations_are_told_apart_by_name(db: Session) -> None:
    accepted = BookingFactory(status=BookingStatus.ACCEPTED)

    def violation(booking: Booking) -> str | None:
        savepoint = db.begin_nested()
        db.add(booking)
        with pytest.raises(IntegrityError) as caught:
            db.flush()
        savepoint.rollback()
        return violated_constraint(caught.value)

    overlapping = Booking(id=uuid.uuid4(), listing_id=accepted.listing_id, mentor_profile_id=accepted.mentor_profile_id,
                          mentee_user_id=UserFactory().id, start_time=accepted.start_time + timedelta(minutes=30),
                          end_time=accepted.end_time, status=BookingStatus.ACCEPTED, price_cents=1, currency="USD")
    assert violation(overlapping) == ACCEPTED_OVERLAP
    backwards = Booking(id=uuid.uuid4(), listing_id=accepted.listing_id, mentor_profile_id=accepted.mentor_profile_id,
                        mentee_user_id=accepted.mentee_user_id, start_time=accepted.end_time,
                        end_time=accepted.start_time, status=BookingStatus.DRAFT, price_cents=1, currency="USD")
    assert violation(backwards) == "ck_bookings_times_ordered"

    listing = ListingFactory(kind=ListingKind.GROUP, capacity=3)
    session = GroupSessionFactory(listing=listing, start_time=accepted.start_time)
    seat = BookingFactory(listing=listing, status=BookingStatus.ACCEPTED, group_session_id=session.id)
    second = Booking(id=uuid.uuid4(), listing_id=listing.id, mentor_profile_id=listing.mentor_profile_id,
                     mentee_user_id=seat.mentee_user_id, start_time=seat.start_time, end_time=seat.end_time,
                     status=BookingStatus.ACCEPTED, price_cents=1, currency="USD", group_session_id=session.id)
    assert violation(second) == GROUP_SEAT


def test_violated_constraint_is_none_without_driver_diagnostics() -> None:
    assert violated_constraint(IntegrityError("INSERT", {}, ValueError(ACCEPTED_OVERLAP))) is None
