from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Column, ForeignKey, Numeric, String, Table, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, IdMixin, TimestampMixin, trigram_index
from models.mentors.listings import MAX_SESSIONS_PER_DAY, MAX_SESSIONS_PER_WEEK

if TYPE_CHECKING:
    from models.accounts.users import User

mentor_profile_skills = Table(
    "mentor_profile_skills",
    Base.metadata,
    Column("mentor_profile_id", ForeignKey("mentor_profiles.id", ondelete="CASCADE"), primary_key=True),
    Column("skill_id", ForeignKey("skills.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Skill(IdMixin, Base):
    """A topic mentors teach; names are lower-case slugs such as ``python``."""

    __tablename__ = "skills"
    __table_args__ = (
        CheckConstraint("name = lower(name) AND length(name) BETWEEN 1 AND 50", name="name_shape"),
        trigram_index("ix_skills_name_trgm", "name"),
    )

    name: Mapped[str] = mapped_column(String(50), unique=True)


ONE_PROFILE_PER_USER = "uq_mentor_profiles_user_id"
MAX_EMBED_ORIGINS = 5


class MentorProfile(IdMixin, TimestampMixin, Base):
    __tablename__ = "mentor_profiles"
    __table_args__ = (
        CheckConstraint("rating_count >= 0", name="rating_count_non_negative"),
        CheckConstraint("rating_average IS NULL OR rating_average BETWEEN 1 AND 5", name="rating_average_range"),
        CheckConstraint("length(headline) BETWEEN 0 AND 200", name="headline_length"),  # none: a programme's mentor
        CheckConstraint("avatar_url IS NULL OR avatar_url ~ '^https://'", name="avatar_url_https"),
        trigram_index("ix_mentor_profiles_headline_trgm", "headline"),
        CheckConstraint(f"(max_sessions_per_day IS NULL OR max_sessions_per_day BETWEEN 1 AND {MAX_SESSIONS_PER_DAY}) "
                        f"AND (max_sessions_per_week IS NULL OR max_sessions_per_week BETWEEN 1 AND "
                        f"{MAX_SESSIONS_PER_WEEK})", name="limits_range"),
        CheckConstraint(f"cardinality(embed_origins) <= {MAX_EMBED_ORIGINS}", name="embed_origins_count"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    headline: Mapped[str] = mapped_column(String(200))
    bio: Mapped[str] = mapped_column(Text, default="", server_default="")
    timezone: Mapped[str] = mapped_column(String(64))
    # The currency a new listing of theirs is priced in unless they say otherwise (ISO 4217).
    currency: Mapped[str] = mapped_column(String(3), default="USD", server_default="USD")
    rating_average: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    rating_count: Mapped[int] = mapped_column(default=0, server_default="0")
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    # False once the mentor deleted their account: out of the directory, 404 to everyone.
    listed: Mapped[bool] = mapped_column(default=True, server_default="true")
    # Sessions of any listing (group sessions included) in the mentor's local day and week; None: no limit.
    max_sessions_per_day: Mapped[int | None]
    max_sessions_per_week: Mapped[int | None]
    # Shown to visitors without an account (the public directory, the profile's and its listings' booking pages):
    # private by default.
    public: Mapped[bool] = mapped_column(default=False, server_default="false")
    # Sites that may show the public pages in a frame (https origins); none: no framing.
    embed_origins: Mapped[list[str]] = mapped_column(ARRAY(String(200)), default=list, server_default="{}")

    user: Mapped[User] = relationship(back_populates="mentor_profile")
    skills: Mapped[list[Skill]] = relationship(secondary=mentor_profile_skills, order_by="Skill.name")
    availability: Mapped[list[AvailabilityWindow]] = relationship(
        back_populates="mentor_profile",
        cascade="all, delete-orphan",
        order_by="(AvailabilityWindow.weekday, AvailabilityWindow.start_minute)",
    )


class AvailabilityWindow(IdMixin, Base):
    """A weekly window in the mentor's timezone, as minutes since local midnight."""

    __tablename__ = "availability_windows"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute", name="minutes_range"),
        UniqueConstraint("mentor_profile_id", "weekday", "start_minute"),
    )

    mentor_profile_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mentor_profiles.id", ondelete="CASCADE"))
    weekday: Mapped[int]
    start_minute: Mapped[int]
    end_minute: Mapped[int]

    mentor_profile: Mapped[MentorProfile] = relationship(back_populates="availability")


class TimeOff(IdMixin, Base):
    """A period the mentor is away: no slots, requests or accepts meet it. ``end_time`` None: until further
    notice. Stored as instants; the API reads and shows them in the mentor's timezone."""

    __tablename__ = "time_off"
    __table_args__ = (
        CheckConstraint("end_time IS NULL OR end_time > start_time", name="times_ordered"),
        CheckConstraint("length(note) <= 200", name="note_length"),
    )

    mentor_profile_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mentor_profiles.id", ondelete="CASCADE"),
                                                         index=True)
    start_time: Mapped[datetime]
    end_time: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(String(200), default="", server_default="")


class DateOverride(IdMixin, Base):
    """Other hours for one local date of the mentor, replacing that weekday's windows: ``[start, end]`` minute
    pairs, or none (not available that day)."""

    __tablename__ = "date_overrides"
    __table_args__ = (
        UniqueConstraint("mentor_profile_id", "day"),
        CheckConstraint("jsonb_typeof(hours) = 'array' AND jsonb_array_length(hours) <= 8", name="hours_shape"),
    )

    mentor_profile_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mentor_profiles.id", ondelete="CASCADE"))
    day: Mapped[date]
    hours: Mapped[list[list[int]]] = mapped_column(JSONB)
