"""A pairing's closing survey: once it ended, each of the pair says how it went, once (a rating of 1 to 5 and a few
words). Each of the pair reads their own answer, the coordinators both (``workflows.programmes.pairings``'s view);
the event says only that one was given."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from models import PairingStatus, PairingSurvey, Programme
from workflows.actors import Actor
from workflows.errors import BusinessRuleViolation, Conflict, NotFound
from workflows.events import EventType, record
from workflows.programmes.lifecycle import actor_label
from workflows.programmes.pairings import PairingView, get, load, pairing_payload
from workflows.roles import Role


def answer_survey(db: Session, actor: Actor, programme_id: uuid.UUID, pairing_id: uuid.UUID, *, rating: int,
                  comment: str = "") -> PairingView:
    """One of the pair says how it went, once it ended: a rating of 1 to 5 and a few words, once (409 again)."""
    pairing, role = load(db, actor, programme_id, pairing_id, lock=True)
    if role not in {Role.MENTOR, Role.MENTEE}:
        raise NotFound("pairing not found")
    if pairing.status != PairingStatus.ENDED:
        raise BusinessRuleViolation("the closing survey opens once the pairing has ended")
    if db.get(PairingSurvey, (pairing.id, actor.user_id)) is not None:
        raise Conflict("you already said how it went", reason="survey_answered_already")
    db.add(PairingSurvey(pairing_id=pairing.id, user_id=actor.user_id, role=role.value, rating=rating,
                         comment=comment.strip()))
    db.flush()
    # The answer stays with who gave it and the coordinators: the event says only that one was given.
    record(db, EventType.PAIRING_SURVEYED, pairing_payload(db, db.get_one(Programme, programme_id), pairing),
           actor=actor_label(actor, role))
    return get(db, actor, programme_id, pairing.id)
