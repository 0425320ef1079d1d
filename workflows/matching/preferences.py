"""A coordinator's word on one mentee and one mentor, which every later run of the match obeys: ``never`` pair them
(the solver may not), or ``prefer`` them (paired before the rest are solved, when they fit: the hard rules kept,
time in common at the cadence, a place left with the mentor). A pair whose pairing ended in the programme is kept
apart as if ``never`` was said, unless it is preferred: a coordinator who wants them together again says so.

One word per pair (a new one replaces the old); at most ``MAX_PREFERENCES`` a programme. Each change is in the
programme's history as a change of its matching (``programme.matching_changed``, naming ``never`` or ``prefer``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from models import (
    MatchPreference,
    Pairing,
    PairingStatus,
    ParticipantRole,
    ParticipantStatus,
    PreferenceKind,
    ProgrammeParticipant,
    ProgrammeStatus,
    User,
)
from workflows.actors import Actor
from workflows.errors import BusinessRuleViolation, NotFound
from workflows.events import EventType
from workflows.pagination import Page, paginate
from workflows.programmes import access as programme_access
from workflows.programmes.lifecycle import coordinators_of, record_change

MAX_PREFERENCES = 2_000


@dataclass(frozen=True)
class PreferenceView:
    preference: MatchPreference
    mentee_name: str
    mentor_name: str

    def __getattr__(self, name: str) -> object:
        return getattr(self.preference, name)


def _view(db: Session, rows: list[MatchPreference]) -> list[PreferenceView]:
    ids = {row.mentee_participant_id for row in rows} | {row.mentor_participant_id for row in rows}
    names = dict(db.execute(select(ProgrammeParticipant.id, User.display_name)
                            .join(User, User.id == ProgrammeParticipant.user_id)
                            .where(ProgrammeParticipant.id.in_(ids))).all()) if ids else {}
    return [PreferenceView(row, names.get(row.mentee_participant_id, ""), names.get(row.mentor_participant_id, ""))
            for row in rows]


def list_preferences(db: Session, actor: Actor, programme_id: uuid.UUID, *, limit: int, cursor: str | None
                     ) -> Page[PreferenceView]:
    """The programme's words on pairs, newest first (its coordinators and admins)."""
    programme_access.may_read(db, actor, programme_id)
    page = paginate(db, select(MatchPreference).where(MatchPreference.programme_id == programme_id),
                    MatchPreference.created_at, MatchPreference.id, limit=limit, cursor=cursor, descending=True)
    return Page(_view(db, list(page.items)), page.next_cursor)


def _person(db: Session, programme_id: uuid.UUID, participant_id: uuid.UUID, role: ParticipantRole) -> None:
    found = db.scalar(select(ProgrammeParticipant.role).where(
        ProgrammeParticipant.id == participant_id, ProgrammeParticipant.programme_id == programme_id,
        ProgrammeParticipant.status == ParticipantStatus.ACTIVE))
    if found is None:
        raise NotFound("no {role} of the programme with that id takes part", words={"role": role.value})
    if found != role:
        raise BusinessRuleViolation("that participant is a {found}, not a {role}",
                                    words={"found": found.value, "role": role.value},
                                    field=f"{role.value}_participant_id")


def say(db: Session, actor: Actor, programme_id: uuid.UUID, *, mentee_participant_id: uuid.UUID,
        mentor_participant_id: uuid.UUID, kind: PreferenceKind) -> PreferenceView:
    """Say ``never`` or ``prefer`` of a mentee and a mentor taking part (its coordinators; 400 once closed, or
    past ``MAX_PREFERENCES``): the next run obeys it; the drafts there are now stay as they are."""
    programme, role = programme_access.may_change(db, actor, programme_id)
    if programme.status == ProgrammeStatus.CLOSED:
        raise BusinessRuleViolation("the programme is closed: its matching changes no more")
    _person(db, programme_id, mentee_participant_id, ParticipantRole.MENTEE)
    _person(db, programme_id, mentor_participant_id, ParticipantRole.MENTOR)
    held = db.scalar(select(func.count()).select_from(MatchPreference)
                     .where(MatchPreference.programme_id == programme_id)) or 0
    known = db.scalar(select(MatchPreference.id).where(
        MatchPreference.programme_id == programme_id, MatchPreference.mentee_participant_id == mentee_participant_id,
        MatchPreference.mentor_participant_id == mentor_participant_id))
    if held >= MAX_PREFERENCES and known is None:  # a pair's word may always be replaced
        raise BusinessRuleViolation("a programme keeps at most {max_preferences} words on pairs; remove some first",
                                    words={"max_preferences": MAX_PREFERENCES})
    row = db.scalar(insert(MatchPreference).values(
        id=uuid.uuid4(), programme_id=programme_id, mentee_participant_id=mentee_participant_id,
        mentor_participant_id=mentor_participant_id, kind=kind, created_by_user_id=actor.user_id,
        created_at=func.now()).on_conflict_do_update(
        index_elements=["programme_id", "mentee_participant_id", "mentor_participant_id"],
        set_={"kind": kind, "created_by_user_id": actor.user_id, "created_at": func.now()})
        .returning(MatchPreference).execution_options(populate_existing=True))
    assert row is not None  # inserted, or the pair's word (ONE_WORD_PER_PAIR) replaced
    record_change(db, actor, role, programme, coordinators=coordinators_of(db, programme_id),
                  event=EventType.PROGRAMME_MATCHING_CHANGED, changed=[kind.value])
    return _view(db, [row])[0]


def unsay(db: Session, actor: Actor, programme_id: uuid.UUID, preference_id: uuid.UUID) -> None:
    """Take a word back (its coordinators): the next run is free of it."""
    programme, role = programme_access.may_change(db, actor, programme_id)
    kind = db.scalar(delete(MatchPreference).where(MatchPreference.id == preference_id,
                                                   MatchPreference.programme_id == programme_id)
                     .returning(MatchPreference.kind))
    if kind is None:
        raise NotFound("no such word on a pair")
    record_change(db, actor, role, programme, coordinators=coordinators_of(db, programme_id),
                  event=EventType.PROGRAMME_MATCHING_CHANGED, changed=[kind.value])


def for_run(db: Session, programme_id: uuid.UUID) -> tuple[list[list[str]], list[list[str]]]:
    """What a run obeys, as its inputs keep it: the pairs kept apart (``[mentee, mentor, why]``: ``never`` said, or
    ``ended``, their pairing in the programme ended) and the pairs preferred (``[mentee, mentor]``), by id, sorted."""
    words = {(str(mentee), str(mentor)): kind for mentee, mentor, kind in db.execute(
        select(MatchPreference.mentee_participant_id, MatchPreference.mentor_participant_id, MatchPreference.kind)
        .where(MatchPreference.programme_id == programme_id))}
    ended = {(str(one), str(other)) for one, other in db.execute(
        select(Pairing.mentee_participant_id, Pairing.mentor_participant_id).where(
            Pairing.programme_id == programme_id, Pairing.status == PairingStatus.ENDED))}
    apart = {pair: "never" for pair, kind in words.items() if kind == PreferenceKind.NEVER}
    apart.update({pair: "ended" for pair in ended if pair not in words})
    return (sorted([*pair, why] for pair, why in apart.items()),
            sorted(list(pair) for pair, kind in words.items() if kind == PreferenceKind.PREFER))
