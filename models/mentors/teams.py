"""A listing's team: the mentors who teach it, any of whom a booking may go to (round-robin), and the
invitations that make a mentor a member once they accept."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, IdMixin
from models.enums import InvitationStatus, check_in, stored_as_text

if TYPE_CHECKING:
    from models.mentors.listings import Listing

# One invitation waiting per mentor and listing: a second one while it waits is the first one.
ONE_PENDING_INVITATION = "uq_team_invitations_pending"


class ListingMember(Base):
    """One mentor on a listing's team. A listing without members is taught by its owner alone."""

    __tablename__ = "listing_members"
    __table_args__ = (
        CheckConstraint("position >= 0", name="position_non_negative"),
        Index("ix_listing_members_mentor_profile_id", "mentor_profile_id"),
    )

    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"), primary_key=True)
    mentor_profile_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mentor_profiles.id", ondelete="CASCADE"), primary_key=True)
    # The team's stable order: the last tie-break when the service chooses a member.
    position: Mapped[int]
    added_at: Mapped[datetime] = mapped_column(server_default=func.now())


class TeamInvitation(IdMixin, Base):
    """The owner of a listing asks a mentor to join its team; they are a member only once they accept."""

    __tablename__ = "team_invitations"
    __table_args__ = (
        CheckConstraint(check_in("status", InvitationStatus), name="status_values"),
        CheckConstraint("position >= 0", name="position_non_negative"),
        CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name="decided_unless_pending"),
        Index(ONE_PENDING_INVITATION, "listing_id", "mentor_profile_id", unique=True,
              postgresql_where=text("status = 'pending'")),
        Index("ix_team_invitations_mentor_status", "mentor_profile_id", "status"),
    )

    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id", ondelete="CASCADE"))
    mentor_profile_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mentor_profiles.id", ondelete="CASCADE"))
    # Where the mentor goes in the team's order once they accept.
    position: Mapped[int]
    status: Mapped[InvitationStatus] = mapped_column(stored_as_text(InvitationStatus), default=InvitationStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    decided_at: Mapped[datetime | None]

    listing: Mapped[Listing] = relationship()
