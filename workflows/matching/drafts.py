"""Draft pairings of a coordinator-led programme: what a run proposed, reviewed by its coordinators before anyone is
told. A coordinator gives a draft another mentor (its score and reasons read again from the run's inputs), swaps
the mentors of two drafts, pins a draft (kept, and its mentor's place held, when the match is run again) or removes
it; then publishes them all: a worker on the matching queue proposes each as a pairing (its sessions asked for at
the pair's first common time the run found, when still ahead; both told with it: ``pairing.proposed``), each in a
transaction of its own that deletes the draft, so a draft becomes a pairing once; one refused (the mentor's time
taken meanwhile, the mentee paired meanwhile) stays, ``failed``, with the reason. While a run waits or works, the
drafts do not change but by its result, and none is published.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import (
    DraftStatus,
    MatchDraft,
    MatchPreference,
    MatchRun,
    Pairing,
    PreferenceKind,
    Programme,
    ProgrammeParticipant,
    User,
)
from outbox import enqueue_after_commit
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, Conflict, DomainError, NotFound
from workflows.matching import runs
from workflows.pagination import Page, paginate
from workflows.programmes import access as programme_access
from workflows.programmes import pairings
from workflows.programmes.lifecycle import TAKING_PARTICIPANTS

PUBLISH_TASK = "matching.publish"
PUBLISH_BATCH = 20  # drafts one task publishes, each in a transaction of its own, before it hands on


@dataclass(frozen=True)
class DraftView:
    """A draft with its pair's names and its mentor's load were the drafts published: their places used (live
    pairings, and drafts not refused) of their capacity."""

    draft: MatchDraft
    mentor_name: str
    mentee_name: str
    mentor_capacity: int = 0
    mentor_places_used: int = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.draft, name)


def _named(db: Session, drafts: list[MatchDraft]) -> list[DraftView]:
    ids = {one.mentor_participant_id for one in drafts} | {one.mentee_participant_id for one in drafts}
    names = dict(db.execute(select(ProgrammeParticipant.id, User.display_name)
                            .join(User, User.id == ProgrammeParticipant.user_id)
                            .where(ProgrammeParticipant.id.in_(ids))).all())
    mentors = {one.mentor_participant_id for one in drafts}
    capacity = dict(db.execute(select(ProgrammeParticipant.id, ProgrammeParticipant.capacity)
                               .where(ProgrammeParticipant.id.in_(mentors))).all())
    used = Counter(dict(db.execute(select(Pairing.mentor_participant_id, func.count()).where(
        Pairing.mentor_participant_id.in_(mentors), Pairing.status.in_(pairings.LIVE))
        .group_by(Pairing.mentor_participant_id)).all()))
    used.update(dict(db.execute(select(MatchDraft.mentor_participant_id, func.count()).where(
        MatchDraft.mentor_participant_id.in_(mentors), MatchDraft.status != DraftStatus.FAILED)
        .group_by(MatchDraft.mentor_participant_id)).all()))
    return [DraftView(one, names.get(one.mentor_participant_id, ""), names.get(one.mentee_participant_id, ""),
                      capacity.get(one.mentor_participant_id) or 0, used[one.mentor_participant_id])
            for one in drafts]


def list_drafts(db: Session, actor: Actor, programme_id: uuid.UUID, *, limit: int, cursor: str | None
                ) -> Page[DraftView]:
    """The programme's drafts, newest first (its coordinators)."""
    programme_access.may_read(db, actor, programme_id)
    page = paginate(db, select(MatchDraft).where(MatchDraft.programme_id == programme_id), MatchDraft.created_at,
                    MatchDraft.id, limit=limit, cursor=cursor, descending=True)
    return Page(_named(db, list(page.items)), page.next_cursor)


def counts(db: Session, programme_id: uuid.UUID) -> dict[str, int]:
    return {status.value: count for status, count in db.execute(
        select(MatchDraft.status, func.count()).where(MatchDraft.programme_id == programme_id)
        .group_by(MatchDraft.status))}


def _draft(db: Session, actor: Actor, programme_id: uuid.UUID, draft_id: uuid.UUID) -> MatchDraft:
    programme_access.may_change(db, actor, programme_id)
    draft = db.scalar(select(MatchDraft).where(MatchDraft.id == draft_id, MatchDraft.programme_id == programme_id)
                      .with_for_update())
    if draft is None:
        raise NotFound("draft not found")
    if draft.status == DraftStatus.PUBLISHING:
        raise Conflict("the draft is being published", reason="draft_being_published")
    if runs.busy(db, programme_id):
        raise Conflict("a run is under way: its pairs replace the drafts not pinned; change them once it is done",
                       reason="run_under_way")
    return draft


def _rescore(db: Session, draft: MatchDraft, mentor_participant_id: uuid.UUID, *, moving: set[uuid.UUID]
             ) -> tuple[float, list[str]]:
    """The pair's score and reasons from the run's inputs, with the mentor's room as it is now (their capacity less
    their live pairings and their drafts, those ``moving`` aside); 409 when the pair may not be made, or one of
    them was not in the run."""
    from workflows.matching import scores  # noqa: PLC0415 - numpy enters the API process only when asked for
    run = db.get(MatchRun, draft.run_id) if draft.run_id else None
    inputs = run.inputs if run is not None else None
    mentee = next((one for one in (inputs or {}).get("mentees", []) if one["id"] == str(draft.mentee_participant_id)),
                  None)
    mentor = next((one for one in (inputs or {}).get("mentors", []) if one["id"] == str(mentor_participant_id)),
                  None)
    if inputs is None or mentee is None or mentor is None:
        raise Conflict("this mentor was not in the run that drafted the pair: run the match again to score them",
                       reason="mentor_not_in_run")
    if db.scalar(select(MatchPreference.id).where(  # a word said since the run holds too
            MatchPreference.programme_id == draft.programme_id, MatchPreference.kind == PreferenceKind.NEVER,
            MatchPreference.mentee_participant_id == draft.mentee_participant_id,
            MatchPreference.mentor_participant_id == mentor_participant_id)) is not None:
        raise Conflict("this pair cannot be made: the coordinators keep them apart", rule="matching",
                       reason="pair_kept_apart")
    capacity = db.scalar(select(ProgrammeParticipant.capacity).where(
        ProgrammeParticipant.id == mentor_participant_id)) or 0
    live = db.scalar(select(func.count()).select_from(Pairing).where(
        Pairing.mentor_participant_id == mentor_participant_id, Pairing.status.in_(pairings.LIVE))) or 0
    drafted = db.scalar(select(func.count()).select_from(MatchDraft).where(
        MatchDraft.mentor_participant_id == mentor_participant_id, MatchDraft.id.not_in(moving))) or 0
    matrix = scores.compute({**inputs, "mentees": [mentee],
                             "mentors": [{**mentor, "left": max(capacity - live - drafted, 0)}]})
    why = scores.why_not(matrix, 0, 0)
    if why is not None:
        raise Conflict("this pair cannot be made: {why}",
                       words={"why": why}, rule="matching", reason="pair_not_allowed")
    return float(matrix.score[0, 0]), scores.reasons(matrix, 0, 0)


def update_draft(db: Session, actor: Actor, programme_id: uuid.UUID, draft_id: uuid.UUID, *,
                 mentor_participant_id: uuid.UUID | None = None, pinned: bool | None = None) -> DraftView:
    """Give a draft another mentor (409 when that pair cannot be made: no time in common, a rule, no place left),
    or pin or unpin it."""
    draft = _draft(db, actor, programme_id, draft_id)
    if mentor_participant_id is not None and mentor_participant_id != draft.mentor_participant_id:
        draft.score, draft.reasons = _rescore(db, draft, mentor_participant_id, moving={draft.id})
        draft.mentor_participant_id, draft.status, draft.problem = mentor_participant_id, DraftStatus.DRAFT, None
    if pinned is not None:
        draft.pinned = pinned
    db.flush()
    return _named(db, [draft])[0]


def swap(db: Session, actor: Actor, programme_id: uuid.UUID, first_id: uuid.UUID, second_id: uuid.UUID
         ) -> list[DraftView]:
    """Exchange the mentors of two drafts (each pair checked as :func:`update_draft` checks it)."""
    if first_id == second_id:
        raise BusinessRuleViolation("swap two different drafts", field="draft_ids")
    first, second = sorted((_draft(db, actor, programme_id, first_id), _draft(db, actor, programme_id, second_id)),
                           key=lambda one: one.id)
    one_mentor, other_mentor = first.mentor_participant_id, second.mentor_participant_id
    moving = {first.id, second.id}
    scored = (_rescore(db, first, other_mentor, moving=moving), _rescore(db, second, one_mentor, moving=moving))
    (first.score, first.reasons), (second.score, second.reasons) = scored
    first.mentor_participant_id, second.mentor_participant_id = other_mentor, one_mentor
    db.flush()
    return _named(db, sorted([first, second], key=lambda one: str(one.id) != str(first_id)))


def remove(db: Session, actor: Actor, programme_id: uuid.UUID, draft_id: uuid.UUID) -> None:
    db.delete(_draft(db, actor, programme_id, draft_id))


def publish(db: Session, actor: Actor, programme_id: uuid.UUID) -> dict[str, int]:
    """Publish every draft (failed ones again): the matching worker proposes them. 400 for a programme not taking
    participants; 409 when there is none."""
    programme, _ = programme_access.may_change(db, actor, programme_id)
    if programme.status not in TAKING_PARTICIPANTS:
        raise BusinessRuleViolation("the programme is {status}: it pairs no one now",
                                    words={"status": programme.status.value})
    if runs.busy(db, programme_id):
        raise Conflict("a run is under way: publish once it is done", reason="run_under_way")
    moved = db.execute(update(MatchDraft).where(MatchDraft.programme_id == programme_id,
                                                MatchDraft.status != DraftStatus.PUBLISHING)
                       .values(status=DraftStatus.PUBLISHING, problem=None, published_by_user_id=actor.user_id))
    if not moved.rowcount:  # type: ignore[attr-defined]
        raise Conflict("there are no drafts to publish: run the match first", reason="no_drafts")
    enqueue_after_commit(db, PUBLISH_TASK, str(programme_id))
    return counts(db, programme_id)


def publish_one(db: Session, programme_id: uuid.UUID, *, now: datetime | None = None) -> bool:
    """Propose one of the programme's drafts being published, best score first, in the caller's transaction (the
    worker gives each its own): it becomes a pairing and is deleted, or stays ``failed`` with the reason (a mentee
    paired meanwhile included: a draft never gives a mentee a second mentor). SKIP LOCKED: two workers share them.
    False when none is left."""
    draft = db.scalar(select(MatchDraft).where(MatchDraft.programme_id == programme_id,
                                               MatchDraft.status == DraftStatus.PUBLISHING)
                      .order_by(MatchDraft.score.desc(), MatchDraft.id).limit(1).with_for_update(skip_locked=True))
    if draft is None:
        return False
    programme = db.get_one(Programme, programme_id)
    first = draft.first_start if draft.first_start is not None and draft.first_start > (now or utcnow()) else None
    # The run's first common start (one the mentor's listing offered); when its series is refused, what was booked
    # or marked busy since took it: then the pair's first common free time now, as a coordinator's pairing finds it.
    # A draft that fails says why the run's time failed, not that nothing else was found.
    refusals: list[str] = []
    for start in dict.fromkeys((first, None)):
        try:
            with db.begin_nested():
                made = pairings.pair(db, programme, draft.mentor_participant_id, draft.mentee_participant_id,
                                     proposed_by=draft.published_by_user_id, actor=_publisher(draft),
                                     first_start=start, now=now)
                runs.mark_matched(db, made, draft.run_id)
                db.delete(draft)
            return True
        except DomainError as refusal:
            refusals.append(_problem(refusal))
    draft.status, draft.problem = DraftStatus.FAILED, refusals[0][:500]
    return True


def _problem(refusal: DomainError) -> str:
    """A refusal in a coordinator's words: a series none of whose times is free says why its first one is not."""
    left_out = refusal.details.get("left_out") or []
    reason = left_out[0].get("reason") if left_out else None
    return f"{refusal.message}: {reason}" if reason else refusal.message


def _publisher(draft: MatchDraft) -> str:
    return str(Actor(draft.published_by_user_id)) if draft.published_by_user_id else "system"


def publishing(db: Session) -> list[uuid.UUID]:
    """Programmes with drafts being published: the sweep's backstop for a lost message."""
    return list(db.scalars(select(MatchDraft.programme_id).where(MatchDraft.status == DraftStatus.PUBLISHING)
                           .distinct().limit(100)))
