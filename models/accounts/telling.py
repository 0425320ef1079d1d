"""How each person is told (``workflows.notifications.preferences``): by email at once, in a daily or weekly digest,
or not at all, per kind of news; and the digests sent, one per person and period.

In-app is always on; account security is always mailed at once (no row may say otherwise). A person with no row
for a kind is mailed at once.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base
from models.enums import check_in, stored_as_text


class Telling(StrEnum):
    """The kinds of news a person chooses how to be told of."""

    BOOKINGS = "bookings"  # bookings and sessions, a team's invitations
    REMINDERS = "reminders"
    MESSAGES = "messages"
    ANNOUNCEMENTS = "announcements"
    PROGRAMMES = "programmes"  # a programme's changes: enrolment, pairings, goals, matching
    SECURITY = "security"  # the account's own: always mailed at once


class EmailChoice(StrEnum):
    NOW = "now"
    DAILY = "daily"
    WEEKLY = "weekly"
    OFF = "off"


class DigestPeriod(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


class NotificationPreference(Base):
    __tablename__ = "notification_preferences"
    __table_args__ = (
        CheckConstraint(check_in("kind", Telling), name="kind_values"),
        CheckConstraint(check_in("email", EmailChoice), name="email_values"),
        CheckConstraint("kind <> 'security' OR email = 'now'", name="security_mailed"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[Telling] = mapped_column(stored_as_text(Telling), primary_key=True)
    email: Mapped[EmailChoice] = mapped_column(stored_as_text(EmailChoice))
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())


class EmailDigest(Base):
    """One digest sent to one person for one period (its first day in their zone): written in the transaction
    that hands it to the mail server, so a period's digest goes once."""

    __tablename__ = "email_digests"
    __table_args__ = (CheckConstraint(check_in("period", DigestPeriod), name="period_values"),)

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    period: Mapped[DigestPeriod] = mapped_column(stored_as_text(DigestPeriod), primary_key=True)
    starts_on: Mapped[date] = mapped_column(primary_key=True)
    items: Mapped[int]
    sent_at: Mapped[datetime] = mapped_column(server_default=func.now())
    subject: Mapped[str] = mapped_column(String(200))
