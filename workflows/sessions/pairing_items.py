"""A session's action items, one list: in a programme, what its mentor writes on completing a session are its
pairing's action items (``models.ActionItem``, the resource ``workflows.programmes.goals`` serves: the mentee's
unless named otherwise, due when said, blank ones dropped), and the session's ``action_items`` field shows the items
it raised (``workflows.people``); the session's own list stays empty. A session outside programmes keeps its list as
written.

Which pairing a session is of (:data:`SESSION_OF_PAIRING`): one of its mentor's programme listing with its mentee,
from when the pairing was made until it ended (a resumed pairing's earlier sessions too).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from models import ActionItem, MentorProfile, MentorshipSession, Pairing
from models.programmes.goals import MAX_ITEM, MAX_OPEN_ITEMS
from workflows.errors import BusinessRuleViolation
from workflows.roles import Role

SESSION_OF_PAIRING = and_(
    MentorshipSession.listing_id == Pairing.listing_id, MentorshipSession.mentee_user_id == Pairing.mentee_user_id,
    MentorshipSession.start_time >= Pairing.created_at,
    or_(Pairing.ended_at.is_(None), MentorshipSession.start_time < Pairing.ended_at))


@dataclass(frozen=True)
class WrittenItem:
    """An action item as a mentor writes it on completing a session: its words, whose it is, when it is due."""

    title: str
    owner: Role = Role.MENTEE
    due_on: date | None = None

    def as_json(self) -> str | dict[str, Any]:
        """As a session outside programmes keeps it: its words, or all it said."""
        if self.owner == Role.MENTEE and self.due_on is None:
            return self.title
        return {"title": self.title, "owner": self.owner.value,
                "due_on": self.due_on.isoformat() if self.due_on else None}


def pairing_of(db: Session, session: MentorshipSession) -> Pairing | None:
    """The pairing a session is of, if any."""
    if session.mentee_user_id is None:
        return None
    return db.scalar(select(Pairing).join(MentorshipSession, SESSION_OF_PAIRING)
                     .where(MentorshipSession.id == session.id).limit(1))


def written(db: Session, session: MentorshipSession, items: Sequence[str | WrittenItem], *, now: datetime
            ) -> list[Any]:
    """Keep what the mentor wrote on completing ``session``, and return what the session's own list keeps: in a
    programme, the pairing's items are made (in the order written) and the list stays empty; else the list as
    written. 400 when the pairing would hold more items not done than it may."""
    given = [one if isinstance(one, WrittenItem) else WrittenItem(one) for one in items]
    pairing = pairing_of(db, session)
    if pairing is None:
        return [one.as_json() for one in given]
    kept = [one for one in given if one.title.strip()]
    waiting = db.scalar(select(func.count()).select_from(ActionItem).where(
        ActionItem.pairing_id == pairing.id, ActionItem.done_at.is_(None))) or 0
    if waiting + len(kept) > MAX_OPEN_ITEMS:
        raise BusinessRuleViolation("a pairing has at most {max_open_items} action items not done; {waiting} wait "
                                    "already",
                                    words={"max_open_items": MAX_OPEN_ITEMS, "waiting": waiting}, field="action_items")
    mentor_user_id = db.scalar(select(MentorProfile.user_id).where(MentorProfile.id == pairing.mentor_profile_id))
    owners = {Role.MENTEE: pairing.mentee_user_id, Role.MENTOR: mentor_user_id or pairing.mentee_user_id}
    db.add_all(ActionItem(id=uuid.uuid4(), pairing_id=pairing.id, title=one.title.strip()[:MAX_ITEM],
                          owner_user_id=owners[one.owner], session_id=session.id, due_on=one.due_on,
                          created_at=now + timedelta(microseconds=order))
               for order, one in enumerate(kept))
    return []

