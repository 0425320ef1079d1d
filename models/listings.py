from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, IdMixin, TimestampMixin, trigram_index
from models.enums import ListingKind, check_in, stored_as_text

if TYPE_CHECKING:
    from models.mentors import MentorProfile, Skill


# A session's length, in minutes: a booking or session is never longer than MAX_DURATION_MINUTES.
MIN_DURATION_MINUTES, MAX_DURATION_MINUTES = 15, 480

class Listing(IdMixin, TimestampMixin, Base):
    __tablename__ = "listings"
    __table_args__ = (
        CheckConstraint(f"duration_minutes BETWEEN {MIN_DURATION_MINUTES} AND {MAX_DURATION_MINUTES}",
                        name="duration_range"),
        CheckConstraint("price_cents >= 0", name="price_non_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),
        CheckConstraint(check_in("kind", ListingKind), name="kind_values"),
        CheckConstraint(
            "(kind = 'group' AND capacity BETWEEN 2 AND 500) OR (kind = 'individual' AND capacity IS NULL)",
            name="capacity_by_kind",
        ),
        CheckConstraint("length(title) BETWEEN 1 AND 200", name="title_length"),
        Index("ix_listings_mentor_created", "mentor_profile_id", "created_at"),
        trigram_index("ix_listings_title_trgm", "title"),
    )

    mentor_profile_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mentor_profiles.id", ondelete="CASCADE"))
    skill_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("skills.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    duration_minutes: Mapped[int]
    price_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[ListingKind] = mapped_column(stored_as_text(ListingKind), default=ListingKind.INDIVIDUAL)
    capacity: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True, server_default="true")
    # Where sessions of this listing meet by default: an https meeting URL or a place.
    location: Mapped[str | None] = mapped_column(String(500))

    mentor_profile: Mapped[MentorProfile] = relationship()
    skill: Mapped[Skill] = relationship()
