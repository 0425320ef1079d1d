"""A mentoring programme an organisation runs (a cohort with dates, or ongoing), its coordinators, and the defaults
its pairings take (``workflows.programmes``)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin
from models.enums import EmailStatus, InvitationStatus, PairingMode, ProgrammeStatus, check_in, stored_as_text

MAX_NAME = 120
MAX_DESCRIPTION = 4000
CADENCE_WEEKS = (1, 2)  # a pairing meets every week or every other week
SESSION_MINUTES = (15, 240)
SESSION_COUNT = (1, 26)
MAX_COORDINATORS = 20
MAX_GRANT_REASON = 1000
ONE_PENDING_COORDINATOR_INVITATION = "uq_coordinator_invitations_pending"


class Programme(IdMixin, Base):
    """A programme: its name and dates, where it stands (``ProgrammeStatus``), and its pairings' defaults."""

    __tablename__ = "programmes"
    __table_args__ = (
        CheckConstraint(check_in("status", ProgrammeStatus), name="status_values"),
        CheckConstraint(f"length(name) BETWEEN 1 AND {MAX_NAME}", name="name_length"),
        CheckConstraint(f"length(description) <= {MAX_DESCRIPTION}", name="description_length"),
        CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on", name="dates_in_order"),
        CheckConstraint(f"cadence_weeks IN {CADENCE_WEEKS}", name="cadence_values"),
        CheckConstraint(f"session_minutes BETWEEN {SESSION_MINUTES[0]} AND {SESSION_MINUTES[1]}",
                        name="session_minutes_range"),
        CheckConstraint(f"session_count BETWEEN {SESSION_COUNT[0]} AND {SESSION_COUNT[1]}",
                        name="session_count_range"),
        CheckConstraint("(status = 'closed') = (closed_at IS NOT NULL)", name="closed_at_when_closed"),
        CheckConstraint(check_in("pairing_mode", PairingMode), name="pairing_mode_values"),
        Index("ix_programmes_status", "status"),
    )

    name: Mapped[str] = mapped_column(String(MAX_NAME))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    # A cohort's dates; both empty for an ongoing programme.
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    status: Mapped[ProgrammeStatus] = mapped_column(stored_as_text(ProgrammeStatus), default=ProgrammeStatus.DRAFT)
    # The defaults a pairing's agreement takes.
    cadence_weeks: Mapped[int] = mapped_column(default=1, server_default="1")
    session_minutes: Mapped[int] = mapped_column(default=60, server_default="60")
    session_count: Mapped[int] = mapped_column(default=12, server_default="12")
    # Whether a mentee may also book mentors outside their pairing.
    mentees_book_outside: Mapped[bool] = mapped_column(default=True, server_default="true")
    # Whether participants may still answer and change their intake (its coordinators close it when they match).
    intake_open: Mapped[bool] = mapped_column(default=True, server_default="true")
    # How its people are paired, and what the matcher weighs (``workflows.matching.settings``; empty: defaults).
    pairing_mode: Mapped[PairingMode] = mapped_column(stored_as_text(PairingMode), default=PairingMode.COORDINATOR,
                                                      server_default=PairingMode.COORDINATOR.value)
    matching: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    # Its engagement plan's version: one more at each edit (``workflows.programmes.plans``).
    plan_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now())
    closed_at: Mapped[datetime | None]


class ProgrammeCoordinator(Base):
    """A user who runs one programme: a role in that programme only, not a global one."""

    __tablename__ = "programme_coordinators"
    __table_args__ = (Index("ix_programme_coordinators_user_id", "user_id"),)

    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"),
                                                    primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(server_default=func.now())


class CoordinatorInvitation(IdMixin, Base):
    """An admin's naming of a coordinator by address (``workflows.programmes.coordinator_invitations``): ``pending``
    until the address is confirmed as an account's (then ``accepted``: the rights start), or an admin withdraws it.
    The link mailed carries a token derived from the row's id; its SHA-256 alone is kept."""

    __tablename__ = "coordinator_invitations"
    __table_args__ = (
        CheckConstraint(check_in("status", InvitationStatus), name="status_values"),
        CheckConstraint(check_in("email_status", EmailStatus), name="email_status_values"),
        Index(ONE_PENDING_COORDINATOR_INVITATION, "programme_id", "email", unique=True,
              postgresql_where=text("status = 'pending'")),
        Index("ix_coordinator_invitations_email", "email", postgresql_where=text("status = 'pending'")),
        Index("ix_coordinator_invitations_token", "token_hash", unique=True),
    )

    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    invited_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[InvitationStatus] = mapped_column(stored_as_text(InvitationStatus), default=InvitationStatus.PENDING)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    email_status: Mapped[EmailStatus] = mapped_column(stored_as_text(EmailStatus), default=EmailStatus.PENDING)
    emailed_at: Mapped[datetime | None]
