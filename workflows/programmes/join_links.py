"""Join links a coordinator shares: whoever opens one signed in joins in its role, until it expires, its uses run
out (counted in one statement, so a cap holds under a crowd) or a coordinator revokes it. Its token is derived from
its id with the server's key, so coordinators can copy it again; only its SHA-256 is looked up."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import (
    ParticipantRole,
    Programme,
    ProgrammeJoinLink,
    ProgrammeParticipant,
)
from models.programmes.enrolment import DEFAULT_CAPACITY
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, InvalidInput, NotFound, refusal
from workflows.pagination import Page, paginate
from workflows.programmes import access as programme_access
from workflows.programmes.enrolment import Via, digest, join, refuse_if_closed, token_of
from workflows.programmes.lifecycle import TAKING_PARTICIPANTS

MAX_LIVE_LINKS = 50  # join links of a programme that still work
LINK_TTL = (timedelta(hours=1), timedelta(days=365))
INVALID_LINK = refusal("this join link is invalid, revoked, used up or expired: ask the programme's coordinators")


# --- join links --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JoinLinkView:
    link: ProgrammeJoinLink

    @property
    def token(self) -> str:
        return token_of("link", self.link.id)

    @property
    def works(self) -> bool:
        link = self.link
        return link.revoked_at is None and link.uses < link.max_uses and link.expires_at > utcnow()

    def __getattr__(self, name: str) -> object:
        return getattr(self.link, name)


def create_link(db: Session, actor: Actor, programme_id: uuid.UUID, *, role: ParticipantRole, max_uses: int,
                expires_at: datetime, capacity: int | None = None) -> JoinLinkView:
    """A join link (its coordinators): whoever opens it signed in joins in ``role`` (a mentor with ``capacity``),
    until ``expires_at`` (an hour to a year away) or ``max_uses`` joins; at most :data:`MAX_LIVE_LINKS` working
    links a programme."""
    programme, _ = programme_access.may_change(db, actor, programme_id)
    refuse_if_closed(programme)
    now = utcnow()
    if not LINK_TTL[0] <= expires_at - now <= LINK_TTL[1]:
        raise BusinessRuleViolation("a join link expires between an hour and a year from now", field="expires_at")
    if role == ParticipantRole.MENTEE and capacity is not None:
        raise BusinessRuleViolation("a mentee has no capacity", field="capacity")
    live = db.scalar(select(func.count()).select_from(ProgrammeJoinLink).where(
        ProgrammeJoinLink.programme_id == programme_id, ProgrammeJoinLink.revoked_at.is_(None),
        ProgrammeJoinLink.expires_at > now, ProgrammeJoinLink.uses < ProgrammeJoinLink.max_uses)) or 0
    if live >= MAX_LIVE_LINKS:
        raise BusinessRuleViolation("a programme has at most {max_live_links} working join links: revoke one",
                                    words={"max_live_links": MAX_LIVE_LINKS})
    link_id = uuid.uuid4()
    link = ProgrammeJoinLink(id=link_id, programme_id=programme_id, role=role, max_uses=max_uses,
                             capacity=None if role == ParticipantRole.MENTEE else capacity or DEFAULT_CAPACITY,
                             token_hash=digest(token_of("link", link_id)), expires_at=expires_at,
                             created_by_user_id=actor.user_id, created_at=now, uses=0)
    db.add(link)
    db.flush()
    return JoinLinkView(link)


def list_links(db: Session, actor: Actor, programme_id: uuid.UUID, *, limit: int, cursor: str | None
               ) -> Page[JoinLinkView]:
    programme_access.may_read(db, actor, programme_id)
    page = paginate(db, select(ProgrammeJoinLink).where(ProgrammeJoinLink.programme_id == programme_id),
                    ProgrammeJoinLink.created_at, ProgrammeJoinLink.id, limit=limit, cursor=cursor, descending=True)
    return Page([JoinLinkView(link) for link in page.items], page.next_cursor)


def revoke_link(db: Session, actor: Actor, programme_id: uuid.UUID, link_id: uuid.UUID) -> JoinLinkView:
    """Revoke a join link (its coordinators): it stops working at once; revoking it again changes nothing."""
    programme_access.may_read(db, actor, programme_id)
    link = db.scalar(select(ProgrammeJoinLink).where(ProgrammeJoinLink.id == link_id,
                                                     ProgrammeJoinLink.programme_id == programme_id)
                     .with_for_update())
    if link is None:
        raise NotFound("join link not found")
    if link.revoked_at is None:
        link.revoked_at = utcnow()
    return JoinLinkView(link)


def inspect_link(db: Session, token: str) -> tuple[JoinLinkView, Programme]:
    """The programme and role of a join link that still works (422 otherwise)."""
    link = db.scalar(select(ProgrammeJoinLink).where(ProgrammeJoinLink.token_hash == digest(token)))
    view = JoinLinkView(link) if link is not None else None
    programme = db.get(Programme, link.programme_id) if link is not None else None
    if view is None or programme is None or not view.works or programme.status not in TAKING_PARTICIPANTS:
        raise InvalidInput(INVALID_LINK)
    return view, programme


def join_by_link(db: Session, actor: Actor, token: str) -> ProgrammeParticipant:
    """Join with a link, signed in. Its use is counted in the statement that checks the cap, so a crowd joining
    at once gets exactly ``max_uses`` places; one who already takes part spends none (409)."""
    view, programme = inspect_link(db, token)
    row = join(db, programme, actor.user_id, view.link.role, view.link.capacity, via=Via.LINK)
    spent = db.scalar(update(ProgrammeJoinLink).where(
        ProgrammeJoinLink.id == view.link.id, ProgrammeJoinLink.revoked_at.is_(None),
        ProgrammeJoinLink.uses < ProgrammeJoinLink.max_uses, ProgrammeJoinLink.expires_at > func.now(),
    ).values(uses=ProgrammeJoinLink.uses + 1).returning(ProgrammeJoinLink.id))
    if spent is None:
        raise InvalidInput(INVALID_LINK)  # used up or revoked meanwhile: the join is undone with the request
    return row


