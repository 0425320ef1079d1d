"""A listing's team is joined by consent: the owner invites, the mentor accepts or declines.

Setting a team (``PUT /listings/{id}/team``) invites the mentors who are not members yet; until one
accepts, no request goes to them and they are not in the team or its slots. The owner needs no
invitation to teach their own listing. A mentor can be invited only once their email is confirmed,
and a member may leave. Each invitation is pending, then accepted, declined, or withdrawn (the owner
set a team without them); the database keeps one pending invitation per mentor and listing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from enum import StrEnum

import structlog
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, joinedload

from models import InvitationStatus, Listing, ListingKind, ListingMember, MentorProfile, TeamInvitation, User
from workflows import inbox, wording
from workflows.actors import Actor
from workflows.clock import utcnow
from workflows.errors import BusinessRuleViolation, Conflict, NotFound
from workflows.lookups import listing_or_404, own_listing
from workflows.pagination import Page, paginate
from workflows.roles import Role
from workflows.scheduling import teams
from workflows.scheduling.teams import Team
from workflows.state_machine import StateMachine, move

log = structlog.get_logger(__name__)

INVITED = wording.notice("team.invited", "You are invited to teach a listing", (
    "{owner} invited you to teach {listing}. Accept or decline the invitation; until you accept, no request comes to "
    "you from it."))
ANSWERED = {
    InvitationStatus.ACCEPTED: wording.notice("team.accepted", "Team invitation accepted",
                                              "{name} accepted your invitation to teach {listing}."),
    InvitationStatus.DECLINED: wording.notice("team.declined", "Team invitation declined",
                                              "{name} declined your invitation to teach {listing}."),
}
LEFT = wording.notice("team.left", "A mentor left your team",
                      "A mentor left the team of {listing}; requests no longer go to them.")


class InvitationAction(StrEnum):
    ACCEPT = "accept"
    DECLINE = "decline"
    WITHDRAW = "withdraw"  # the owner set a team without them


INVITATIONS = StateMachine("invitation", TeamInvitation, {
    InvitationAction.ACCEPT: move(InvitationStatus.PENDING, InvitationStatus.ACCEPTED, Role.MENTOR),
    InvitationAction.DECLINE: move(InvitationStatus.PENDING, InvitationStatus.DECLINED, Role.MENTOR),
    InvitationAction.WITHDRAW: move(InvitationStatus.PENDING, InvitationStatus.WITHDRAWN, Role.MENTOR),
})


def invite(db: Session, listing: Listing, wanted: Sequence[MentorProfile], positions: dict[uuid.UUID, int]) -> None:
    """Invite ``wanted`` (none a member yet) at their ``positions``; withdraw pending invitations of anyone else.

    A mentor already invited keeps their invitation (at the new position); one whose email is not
    confirmed cannot be invited (409).
    """
    unconfirmed = [profile for profile in wanted if profile.user.email_verified_at is None]
    if unconfirmed:
        names = ", ".join(profile.user.display_name for profile in unconfirmed)
        raise Conflict("not confirmed their email yet, so not invited: {names}", words={"names": names},
                       mentor_profile_ids=",".join(str(profile.id) for profile in unconfirmed),
                       reason="invitees_unconfirmed")
    ids = [profile.id for profile in wanted]
    now = utcnow()
    sources, withdrawn = INVITATIONS.moved_by(InvitationAction.WITHDRAW)
    db.execute(update(TeamInvitation).where(
        TeamInvitation.listing_id == listing.id, TeamInvitation.status.in_(sources),
        TeamInvitation.mentor_profile_id.not_in(ids),
    ).values(status=withdrawn, decided_at=now))
    pending = {invitation.mentor_profile_id: invitation for invitation in db.scalars(select(TeamInvitation).where(
        TeamInvitation.listing_id == listing.id, TeamInvitation.status == InvitationStatus.PENDING))}
    for profile in wanted:
        if profile.id in pending:
            pending[profile.id].position = positions[profile.id]
            continue
        invitation = TeamInvitation(id=uuid.uuid4(), listing_id=listing.id, mentor_profile_id=profile.id,
                                    position=positions[profile.id], status=InvitationStatus.PENDING)
        db.add(invitation)
        db.flush()
        inbox.notify_user(
            db, profile.user_id, type_="team.invited", said=INVITED,
            words={"owner": listing.mentor_profile.user.display_name, "listing": wording.quoted(listing.title)},
            data={"invitation_id": str(invitation.id), "listing_id": str(listing.id)})
        log.info("team.invited", invitation_id=str(invitation.id), listing_id=str(listing.id))


def set_team(db: Session, actor: Actor, listing_id: uuid.UUID, mentor_profile_ids: list[uuid.UUID]) -> Team:
    """Set the listing's team (owner only): members not listed leave it, the owner (if listed) teaches at once,
    and anyone else listed is invited (``workflows.mentors.invitations``). An empty list leaves the owner
    teaching alone. Bookings already made keep their mentor, on the team or not.
    """
    listing = own_listing(db, actor, listing_id, to="change its team", lock=True)
    if listing.kind != ListingKind.INDIVIDUAL:
        raise BusinessRuleViolation("teams are for individual listings")
    known = set(db.scalars(select(MentorProfile.id).where(MentorProfile.id.in_(mentor_profile_ids))))
    unknown = [str(i) for i in mentor_profile_ids if i not in known]
    if unknown:
        raise BusinessRuleViolation("no such mentor profile: {unknown}", words={"unknown": ', '.join(unknown)})
    positions = {member: index for index, member in enumerate(mentor_profile_ids)}
    members = {row.mentor_profile_id: row for row in
               db.scalars(select(ListingMember).where(ListingMember.listing_id == listing.id))}
    db.execute(delete(ListingMember).where(ListingMember.listing_id == listing.id,
                                           ListingMember.mentor_profile_id.not_in(mentor_profile_ids)))
    for member, row in members.items():
        if member in positions:
            row.position = positions[member]
    if listing.mentor_profile_id in positions and listing.mentor_profile_id not in members:
        db.add(ListingMember(listing_id=listing.id, mentor_profile_id=listing.mentor_profile_id,
                             position=positions[listing.mentor_profile_id]))
    wanted = [profile for profile in teams.profiles(db, mentor_profile_ids)
              if profile.id not in members and profile.id != listing.mentor_profile_id]
    invite(db, listing, wanted, positions)
    db.flush()
    db.expire_all()
    return teams.get_team(db, listing.id, actor)


def list_invitations(db: Session, actor: Actor, *, limit: int, cursor: str | None) -> Page[TeamInvitation]:
    """The caller's invitations still waiting for an answer, newest first (none unless they are a mentor)."""
    query = (select(TeamInvitation)
             .where(TeamInvitation.mentor_profile_id == actor.mentor_profile_id,
                    TeamInvitation.status == InvitationStatus.PENDING)
             .options(joinedload(TeamInvitation.listing).joinedload(Listing.mentor_profile)
                      .joinedload(MentorProfile.user)))
    return paginate(db, query, TeamInvitation.created_at, TeamInvitation.id, limit=limit, cursor=cursor,
                    descending=True)


def _answer(db: Session, actor: Actor, invitation_id: uuid.UUID, action: InvitationAction) -> TeamInvitation:
    invitation = db.get(TeamInvitation, invitation_id, with_for_update=True, populate_existing=True)
    if invitation is None or actor.mentor_profile_id is None or invitation.mentor_profile_id != actor.mentor_profile_id:
        raise NotFound("invitation not found")
    INVITATIONS.check(invitation, action, Role.MENTOR)
    listing = db.get(Listing, invitation.listing_id, with_for_update={"key_share": True})
    assert listing is not None
    status = INVITATIONS.apply(invitation, action, Role.MENTOR).target
    invitation.decided_at = utcnow()
    if status == InvitationStatus.ACCEPTED:
        db.execute(delete(ListingMember).where(ListingMember.listing_id == listing.id,
                                               ListingMember.mentor_profile_id == invitation.mentor_profile_id))
        db.add(ListingMember(listing_id=listing.id, mentor_profile_id=invitation.mentor_profile_id,
                             position=invitation.position))
    name = db.scalar(select(User.display_name).join(MentorProfile, MentorProfile.user_id == User.id)
                     .where(MentorProfile.id == invitation.mentor_profile_id))
    inbox.notify_user(
        db, listing.mentor_profile.user_id, type_=f"team.{status.value}", said=ANSWERED[status],
        words={"name": name or "", "listing": wording.quoted(listing.title)},
        data={"invitation_id": str(invitation.id), "listing_id": str(listing.id)})
    db.flush()
    log.info("team.answered", status=status.value, invitation_id=str(invitation.id), listing_id=str(listing.id))
    return invitation


def accept(db: Session, actor: Actor, invitation_id: uuid.UUID) -> TeamInvitation:
    """Join the listing's team: requests may come to you from now on (404 unless the invitation is yours)."""
    return _answer(db, actor, invitation_id, InvitationAction.ACCEPT)


def decline(db: Session, actor: Actor, invitation_id: uuid.UUID) -> TeamInvitation:
    return _answer(db, actor, invitation_id, InvitationAction.DECLINE)


def leave(db: Session, actor: Actor, listing_id: uuid.UUID) -> None:
    """Leave a listing's team you are a member of (not your own listing: set its team instead)."""
    listing = listing_or_404(db, listing_id, lock=True)
    if actor.mentor_profile_id is None:
        raise NotFound("you are not on this listing's team")
    if listing.mentor_profile_id == actor.mentor_profile_id:
        raise BusinessRuleViolation("you own this listing: change its team instead of leaving it")
    left = db.execute(delete(ListingMember).where(ListingMember.listing_id == listing.id,
                                                  ListingMember.mentor_profile_id == actor.mentor_profile_id))
    if not left.rowcount:  # type: ignore[attr-defined]
        raise NotFound("you are not on this listing's team")
    inbox.notify_user(
        db, listing.mentor_profile.user_id, type_="team.left", said=LEFT,
        words={"listing": wording.quoted(listing.title)},
        data={"listing_id": str(listing.id), "mentor_profile_id": str(actor.mentor_profile_id)})
    db.flush()
