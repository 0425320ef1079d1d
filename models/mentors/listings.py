from __future__ import annotations

import re
import secrets
import unicodedata
import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, IdMixin, TimestampMixin, trigram_index
from models.enums import ListingKind, check_in, stored_as_text

if TYPE_CHECKING:
    from models.mentors.mentors import MentorProfile, Skill


# A session's length, in minutes: a booking or session is never longer than MAX_DURATION_MINUTES.
MIN_DURATION_MINUTES, MAX_DURATION_MINUTES = 15, 480
# Time a mentor keeps free before or after a session of a listing, in minutes (workflows.scheduling.rules).
MAX_BUFFER_MINUTES = 120
SLOT_STEPS = (15, 30, 60)
MAX_NOTICE_MINUTES = 525_600
MAX_DAYS_AHEAD = 730
MAX_SESSIONS_PER_DAY, MAX_SESSIONS_PER_WEEK, MAX_ACTIVE_BOOKINGS = 48, 336, 1000
MAX_INSTANT_BOOKINGS = 1000  # a listing's cap of one mentee's upcoming instant bookings with one mentor
SLUG_PATTERN, MAX_SLUG_LENGTH = "^[a-z0-9]+(-[a-z0-9]+)*$", 80
_SLUG_WORDS = 60


def slug_for(title: str) -> str:
    """A booking link's slug: the title's letters and digits in ASCII (accents dropped), then 8 random ones, so
    that two listings of one title differ and no slug tells how many listings there are."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_title)[:_SLUG_WORDS].strip("-")
    suffix = "".join(secrets.choice("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(8))
    return f"{words}-{suffix}" if words else suffix


def _slug_default(context: Any) -> str:
    return slug_for(context.get_current_parameters()["title"])


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
        CheckConstraint(f"buffer_before_minutes BETWEEN 0 AND {MAX_BUFFER_MINUTES} "
                        f"AND buffer_after_minutes BETWEEN 0 AND {MAX_BUFFER_MINUTES}", name="buffers_range"),
        CheckConstraint(f"min_notice_minutes IS NULL OR min_notice_minutes BETWEEN 0 AND {MAX_NOTICE_MINUTES}",
                        name="notice_range"),
        CheckConstraint(f"max_days_ahead IS NULL OR max_days_ahead BETWEEN 1 AND {MAX_DAYS_AHEAD}",
                        name="horizon_range"),
        CheckConstraint(f"slot_step_minutes IS NULL OR slot_step_minutes IN {SLOT_STEPS}", name="slot_step_values"),
        CheckConstraint(f"(max_sessions_per_day IS NULL OR max_sessions_per_day BETWEEN 1 AND {MAX_SESSIONS_PER_DAY}) "
                        f"AND (max_sessions_per_week IS NULL OR max_sessions_per_week BETWEEN 1 AND "
                        f"{MAX_SESSIONS_PER_WEEK}) AND (max_active_bookings_per_mentor IS NULL OR "
                        f"max_active_bookings_per_mentor BETWEEN 1 AND {MAX_ACTIVE_BOOKINGS})", name="limits_range"),
        CheckConstraint(f"slug ~ '{SLUG_PATTERN}' AND length(slug) <= {MAX_SLUG_LENGTH}", name="slug_shape"),
        Index("ix_listings_mentor_created", "mentor_profile_id", "created_at"),
        trigram_index("ix_listings_title_trgm", "title"),
    )

    # A programme's listing: only its participants see and book it (``workflows.programmes.pairings``).
    programme_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("programmes.id"), index=True)
    mentor_profile_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mentor_profiles.id", ondelete="CASCADE"))
    skill_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("skills.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    # The listing's booking page, /book/<slug>: made from the title when the listing is, and kept (links stay good).
    slug: Mapped[str] = mapped_column(String(MAX_SLUG_LENGTH), unique=True, default=_slug_default)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    duration_minutes: Mapped[int]
    price_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[ListingKind] = mapped_column(stored_as_text(ListingKind), default=ListingKind.INDIVIDUAL)
    capacity: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=True, server_default="true")
    # Booked without the mentor's approval: a request for a free time is accepted at once, by the system.
    instant_booking: Mapped[bool] = mapped_column(default=False, server_default="false")
    # Where sessions of this listing meet by default: an https meeting URL or a place.
    location: Mapped[str | None] = mapped_column(String(500))
    # Scheduling rules (workflows.scheduling.rules): what a booking copies (the buffers), and what shapes its slots.
    buffer_before_minutes: Mapped[int] = mapped_column(default=0, server_default="0")
    buffer_after_minutes: Mapped[int] = mapped_column(default=0, server_default="0")
    min_notice_minutes: Mapped[int | None]  # None: the service's MIN_NOTICE_MINUTES
    max_days_ahead: Mapped[int | None]
    slot_step_minutes: Mapped[int | None]  # None: the duration
    # Of this listing's sessions, per mentor teaching it, in the mentor's day and week.
    max_sessions_per_day: Mapped[int | None]
    max_sessions_per_week: Mapped[int | None]
    # A mentee's accepted and pending future bookings with one mentor (None: the service's setting).
    max_active_bookings_per_mentor: Mapped[int | None]
    # A mentee's upcoming bookings with one mentor accepted instantly, each time of a series counted (None: the
    # service's MAX_INSTANT_BOOKINGS_PER_MENTOR); an unconfirmed address holds one whatever it says.
    max_instant_bookings_per_mentor: Mapped[int | None]

    mentor_profile: Mapped[MentorProfile] = relationship()
    skill: Mapped[Skill] = relationship()
