from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, IdMixin, TimestampMixin, trigram_index

if TYPE_CHECKING:
    from models.mentors.mentors import MentorProfile


UNIQUE_EMAIL = "uq_users_email"


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        # Emails are stored lower-cased, so the unique key is case-insensitive.
        CheckConstraint("email = lower(email)", name="email_lower_case"),
        CheckConstraint("position('@' in email) > 1", name="email_shape"),
        CheckConstraint("length(display_name) BETWEEN 1 AND 100", name="display_name_length"),
        CheckConstraint("disabled_reason IS NULL OR length(disabled_reason) <= 1000", name="disabled_reason_length"),
        trigram_index("ix_users_display_name_trgm", "display_name"),
    )

    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    # None for an account made by a sign-in at an organisation's provider: it has no password until one is set.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(default=False, server_default="false")
    # Written into every token and compared on each request: raising it ends every earlier token.
    token_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # The user's own preferences (IANA timezone name, BCP 47 language tag); unset until they choose.
    timezone: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(35))
    # Set when the account was deleted: the row stays, anonymised, so past bookings keep their people.
    deleted_at: Mapped[datetime | None]
    # Set by an admin: no sign-in, no listing, until an admin enables the account again.
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    # Set once the owner opened a verification link sent to ``email`` (or reset the password through it):
    # until then no email but those links goes to the address.
    email_verified_at: Mapped[datetime | None]

    mentor_profile: Mapped[MentorProfile | None] = relationship(back_populates="user", uselist=False)
