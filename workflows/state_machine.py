"""The one shape of every lifecycle: bookings, sessions, series, reschedule proposals, team invitations, waitlist
places and attendance disputes.

A machine is a table, action (an enum) → (the statuses it moves from, the status it moves to, the roles
that may make it, the event it records, and what else it does), plus who takes part in a record.
``check`` (and ``apply`` and ``act``, which then move) refuses the wrong party first (403, naming who may
do it), then the wrong status (400, naming the status).
``get_visible`` is the one rule for who may see a record: its participants, and admins reading
without a lock; everyone else gets 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar, cast

from sqlalchemy.orm import Session

from workflows import access
from workflows.actors import Actor
from workflows.errors import Forbidden, InvalidTransition, NotFound
from workflows.roles import Role

S = TypeVar("S", bound=StrEnum)
A = TypeVar("A", bound=StrEnum)


class HasStatus(Protocol[S]):
    """A record a machine moves."""

    status: S


class Stateful(HasStatus[S], Protocol[S]):
    """A record a machine moves whose participants the machine knows: a booking, a session, a series."""

    @property
    def mentor_profile_id(self) -> uuid.UUID: ...

    @property
    def mentee_user_id(self) -> uuid.UUID | None: ...


R = TypeVar("R", bound=HasStatus[Any])


#: What an action does besides moving the status: ``(db, record, the action's arguments)``.
Effect = Callable[[Session, Any, Any], None]


@dataclass(frozen=True)
class Transition(Generic[S]):
    """One row of a table: who may move a record from where to where, and what that records and does.

    ``guard`` runs before the status changes (locks, checks that must precede a flush); ``effect`` after it.
    ``event`` is the event the move records (none when the caller records a broader one).
    """

    sources: frozenset[S]
    target: S
    by: frozenset[Role]
    event: str | None = None
    guard: Effect | None = None
    effect: Effect | None = None


def move(sources: S | set[S], target: S, *by: Role, event: str | None = None, guard: Effect | None = None,
         effect: Effect | None = None) -> Transition[S]:
    """One row of a table: ``move(DRAFT, ACCEPTED, Role.MENTOR, event=EventType.BOOKING_ACCEPTED)``."""
    return Transition(frozenset(sources if isinstance(sources, set) else {sources}), target, frozenset(by),
                      event, guard, effect)


def who_may(roles: frozenset[Role]) -> str:
    """The parties named in a refusal: the people who may act; the system only when nobody else may."""
    people = [role.value for role in Role if role in roles and role != Role.SYSTEM]
    return " or the ".join(people) if people else Role.SYSTEM.value


class StateMachine(Generic[R, A, S]):
    """The transitions of one kind of record, and the rule for who takes part in one.

    ``more_mentees`` finds mentees beyond the record's own ``mentee_user_id`` (the seats of a group
    session); it runs only when the direct checks found no part for the actor.
    """

    def __init__(self, kind: str, model: type[R], transitions: Mapping[A, Transition[S]], *,
                 more_mentees: Callable[[Session, Actor, R], bool] | None = None, key_share: bool = False,
                 verbs: Mapping[A, str] | None = None) -> None:
        self.kind = kind
        self.model = model
        self.transitions = dict(transitions)
        # How a refusal says an action whose identifier is no English verb (``mentee_no_show``).
        self.verbs: dict[A, str] = dict(verbs or {})
        self._more_mentees = more_mentees
        # FOR NO KEY UPDATE instead of FOR UPDATE: for a record whose key never changes and whose rows referring to it
        # are changed apart (their foreign-key checks, FOR KEY SHARE, then never wait for it).
        self._lock: bool | dict[str, bool] = {"key_share": True} if key_share else True

    def check(self, record: HasStatus[S], action: A, role: Role) -> Transition[S]:
        """The transition ``role`` may make on ``record`` now, or Forbidden / InvalidTransition."""
        transition = self.transitions[action]
        verb = self.verbs.get(action, action)
        if role not in transition.by:
            raise Forbidden("only the {who_may} can {verb} this {kind}",
                            words={"who_may": who_may(transition.by), "verb": verb, "kind": self.kind})
        if record.status not in transition.sources:
            raise InvalidTransition(self.kind, record.status, action, verb=verb)
        return transition

    def apply(self, record: HasStatus[S], action: A, role: Role) -> Transition[S]:
        """Move ``record`` by ``action`` made by ``role``, or refuse as ``check`` does; the transition made."""
        transition = self.check(record, action, role)
        record.status = transition.target
        return transition

    def act(self, db: Session, record: R, action: A, role: Role, arguments: Any = None) -> Transition[S]:
        """``apply`` with what the table says the action does: its guard before the move, its effect after."""
        transition = self.check(record, action, role)
        if transition.guard is not None:
            transition.guard(db, record, arguments)
        record.status = transition.target
        if transition.effect is not None:
            transition.effect(db, record, arguments)
        return transition

    def moved_by(self, action: A) -> tuple[frozenset[S], S]:
        """The statuses ``action`` moves from and the one it moves to, for a statement that moves many records
        at once (``UPDATE … WHERE status IN (sources) SET status = target``): the table still says the move."""
        transition = self.transitions[action]
        return transition.sources, transition.target

    def role_of(self, db: Session, actor: Actor, record: R) -> Role | None:
        """The actor's part in the record: its mentor, its mentee, or none (a record of bookings, sessions or
        series: one with participants)."""
        known = cast(Stateful[Any], record)
        if actor.mentor_profile_id is not None and known.mentor_profile_id == actor.mentor_profile_id:
            return Role.MENTOR
        if known.mentee_user_id is not None and known.mentee_user_id == actor.user_id:
            return Role.MENTEE
        if self._more_mentees is not None and self._more_mentees(db, actor, record):
            return Role.MENTEE
        return None

    def get_visible(self, db: Session, actor: Actor, record_id: uuid.UUID, *, lock: bool = False) -> R:
        """The record if the actor takes part in it (or is an admin reading); else 404, no existence leak."""
        record, role = self._load(db, actor, record_id, lock=lock)
        if role is None and (lock or not access.admin_reads(db, actor, self.kind, record_id)):
            raise NotFound("{kind} not found", words={"kind": self.kind})
        return record

    def load_to_act(self, db: Session, actor: Actor, record_id: uuid.UUID) -> tuple[R, Role]:
        """The record, locked, and the actor's part in it; 404 for anyone without one (admins too)."""
        record, role = self._load(db, actor, record_id, lock=True)
        if role is None:
            raise NotFound("{kind} not found", words={"kind": self.kind})
        return record, role

    def _load(self, db: Session, actor: Actor, record_id: uuid.UUID, *, lock: bool) -> tuple[R, Role | None]:
        record = db.get(self.model, record_id, with_for_update=self._lock if lock else None)
        if record is None:
            raise NotFound("{kind} not found", words={"kind": self.kind})
        return record, self.role_of(db, actor, record)
