"""A listing's team is joined by consent (``workflows/mentors/invitations.py``), called directly: the owner invites,
the mentor accepts or declines once, a member may leave, and each side is told."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import InvitationStatus, Listing, ListingKind, ListingMember, MentorProfile, Notification, TeamInvitation
from tests.database import refused
from tests.factories.accounts import UserFactory, actor_of
from tests.factories.mentors import ListingFactory, MentorProfileFactory
from workflows.errors import BusinessRuleViolation, Conflict, Forbidden, InvalidTransition, NotFound
from workflows.mentors import invitations as team_invitations
from workflows.scheduling import teams


def invitations(db: Session, listing: Listing) -> dict[uuid.UUID, tuple[InvitationStatus, int]]:
    db.expire_all()
    return {i.mentor_profile_id: (i.status, i.position) for i in db.scalars(
        select(TeamInvitation).where(TeamInvitation.listing_id == listing.id))}


def members(db: Session, listing: Listing) -> list[uuid.UUID]:
    return list(db.scalars(select(ListingMember.mentor_profile_id).where(ListingMember.listing_id == listing.id)
                           .order_by(ListingMember.position)))


def told(db: Session, profile: MentorProfile) -> list[str]:
    return sorted(db.scalars(select(Notification.type).where(Notification.user_id == profile.user_id)))


def invitation_of(db: Session, listing: Listing, profile: MentorProfile) -> TeamInvitation:
    return db.scalars(select(TeamInvitation).where(TeamInvitation.listing_id == listing.id,
                                                   TeamInvitation.mentor_profile_id == profile.id)).one()


def test_setting_a_team_invites_the_others_and_the_owner_teaches_at_once(db: Session) -> None:
    listing, invited = ListingFactory(), MentorProfileFactory()
    owner = listing.mentor_profile
    shown = team_invitations.set_team(db, actor_of(owner.user), listing.id, [invited.id, owner.id])
    assert members(db, listing) == [owner.id]
    assert invitations(db, listing) == {invited.id: (InvitationStatus.PENDING, 0)}
    assert [p.id for p in shown.invited or []] == [invited.id]
    assert told(db, invited) == ["team.invited"]
    assert teams.get_team(db, listing.id, actor_of(invited.user)).invited is None  # shown to the owner only


def test_an_accepted_invitation_makes_a_member_at_its_place_and_the_owner_is_told(db: Session) -> None:
    listing, first, second = ListingFactory(), MentorProfileFactory(), MentorProfileFactory()
    owner = listing.mentor_profile
    team_invitations.set_team(db, actor_of(owner.user), listing.id, [first.id, second.id])
    team_invitations.accept(db, actor_of(second.user), invitation_of(db, listing, second).id)
    team_invitations.decline(db, actor_of(first.user), invitation_of(db, listing, first).id)
    assert members(db, listing) == [second.id]
    assert db.get_one(ListingMember, (listing.id, second.id)).position == 1  # where the owner placed them
    assert invitations(db, listing) == {first.id: (InvitationStatus.DECLINED, 0),
                                        second.id: (InvitationStatus.ACCEPTED, 1)}
    assert told(db, owner) == ["team.accepted", "team.declined"]


def test_an_invitation_is_answered_once_and_only_by_its_mentor(db: Session) -> None:
    listing, invited = ListingFactory(), MentorProfileFactory()
    team_invitations.set_team(db, actor_of(listing.mentor_profile.user), listing.id, [invited.id])
    invitation = invitation_of(db, listing, invited)
    for someone in (MentorProfileFactory().user, UserFactory()):
        error = refused(db, NotFound, lambda who=someone: team_invitations.accept(db, actor_of(who), invitation.id))
        assert error.message == "invitation not found"
    team_invitations.accept(db, actor_of(invited.user), invitation.id)
    again = refused(db, InvalidTransition, lambda: team_invitations.decline(db, actor_of(invited.user), invitation.id))
    assert (again.message, again.details) == ("cannot decline an invitation that is accepted",
                                              {"current_status": "accepted", "action": "decline"})
    assert members(db, listing) == [invited.id]


def test_setting_the_team_again_withdraws_the_invitations_left_out_and_keeps_the_others(db: Session) -> None:
    listing, kept, dropped = ListingFactory(), MentorProfileFactory(), MentorProfileFactory()
    owner = actor_of(listing.mentor_profile.user)
    team_invitations.set_team(db, owner, listing.id, [kept.id, dropped.id])
    team_invitations.set_team(db, owner, listing.id, [MentorProfileFactory().id, kept.id])
    statuses = invitations(db, listing)
    assert (statuses[kept.id], statuses[dropped.id][0]) == ((InvitationStatus.PENDING, 1), InvitationStatus.WITHDRAWN)
    assert told(db, kept) == ["team.invited"]  # invited once


def test_a_mentor_whose_email_is_not_confirmed_is_not_invited(db: Session) -> None:
    listing = ListingFactory()
    unconfirmed = MentorProfileFactory(user=UserFactory(email_verified_at=None, display_name="Ada Unconfirmed"))
    error = refused(db, Conflict, lambda: team_invitations.set_team(
        db, actor_of(listing.mentor_profile.user), listing.id, [unconfirmed.id]))
    assert error.message == "not confirmed their email yet, so not invited: Ada Unconfirmed"
    assert invitations(db, listing) == {}


def test_only_the_owner_sets_the_team_of_an_individual_listing_of_known_mentors(db: Session) -> None:
    listing, group = ListingFactory(), ListingFactory(kind=ListingKind.GROUP, capacity=4)
    owner = actor_of(listing.mentor_profile.user)
    stranger = refused(db, Forbidden, lambda: team_invitations.set_team(
        db, actor_of(MentorProfileFactory().user), listing.id, []))
    assert stranger.message == "only the listing's mentor can change its team"
    grouped = refused(db, BusinessRuleViolation, lambda: team_invitations.set_team(
        db, actor_of(group.mentor_profile.user), group.id, []))
    assert grouped.message == "teams are for individual listings"
    nobody = uuid.uuid4()
    unknown = refused(db, BusinessRuleViolation, lambda: team_invitations.set_team(db, owner, listing.id, [nobody]))
    assert unknown.message == f"no such mentor profile: {nobody}"


def test_a_member_may_leave_and_the_owner_is_told_but_the_owner_cannot_leave(db: Session) -> None:
    listing, member = ListingFactory(), MentorProfileFactory()
    owner = listing.mentor_profile
    team_invitations.set_team(db, actor_of(owner.user), listing.id, [owner.id, member.id])
    team_invitations.accept(db, actor_of(member.user), invitation_of(db, listing, member).id)
    team_invitations.leave(db, actor_of(member.user), listing.id)
    assert members(db, listing) == [owner.id]
    assert "team.left" in told(db, owner)
    again = refused(db, NotFound, lambda: team_invitations.leave(db, actor_of(member.user), listing.id))
    assert again.message == "you are not on this listing's team"
    own = refused(db, BusinessRuleViolation, lambda: team_invitations.leave(db, actor_of(owner.user), listing.id))
    assert own.message == "you own this listing: change its team instead of leaving it"
