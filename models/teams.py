"""A listing's team: the mentors who teach it, any of whom a booking may go to (round-robin)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


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
