"""Who takes part in a programme and how they came to: its participants (a role each, mentors a capacity), the
invitations its coordinators send to addresses, and the join links they share (``workflows.programmes``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin
from models.enums import (
    EmailStatus,
    InvitationStatus,
    ParticipantRole,
    ParticipantStatus,
    check_in,
    stored_as_text,
)

MAX_INVITEE_NAME = 120
MAX_EMAIL = 320
CAPACITY = (1, 20)  # how many mentees a mentor takes at once
DEFAULT_CAPACITY = 2
JOIN_LINK_USES = (1, 10_000)

# One participation per person and programme: a return reopens it.
ONE_PARTICIPATION = "uq_programme_participants_programme_user"
# One invitation waiting per address and programme: inviting it again while it waits is the same invitation.
ONE_PENDING_INVITATION = "uq_programme_invitations_pending"
# Its predicate, as SQL text: an ``ON CONFLICT`` naming the index spells it the same, never as a parameter (a bound
# value matches no index once PostgreSQL plans the statement without its values).
PENDING_INVITATION = text(f"status = '{InvitationStatus.PENDING.value}'")
INVITATION_BY_HASH = "uq_programme_invitations_token_hash"
JOIN_LINK_BY_HASH = "uq_programme_join_links_token_hash"

_CAPACITY_FOR_MENTORS = (f"(role = 'mentor') = (capacity IS NOT NULL) AND "
                         f"(capacity IS NULL OR capacity BETWEEN {CAPACITY[0]} AND {CAPACITY[1]})")


class ProgrammeParticipant(IdMixin, Base):
    """A person in a programme, as its mentor or its mentee. Leaving or being removed ends the participation and
    keeps its row (``ended_at``); a return reopens it."""

    __tablename__ = "programme_participants"
    __table_args__ = (
        CheckConstraint(check_in("role", ParticipantRole), name="role_values"),
        CheckConstraint(check_in("status", ParticipantStatus), name="status_values"),
        CheckConstraint(_CAPACITY_FOR_MENTORS, name="capacity_for_mentors"),
        CheckConstraint("(status = 'active') = (ended_at IS NULL)", name="ended_unless_active"),
        Index(ONE_PARTICIPATION, "programme_id", "user_id", unique=True),
        Index("ix_programme_participants_user_id", "user_id"),
        Index("ix_programme_participants_programme_role", "programme_id", "status", "role"),
    )

    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[ParticipantRole] = mapped_column(stored_as_text(ParticipantRole))
    status: Mapped[ParticipantStatus] = mapped_column(stored_as_text(ParticipantStatus),
                                                      default=ParticipantStatus.ACTIVE)
    # How many mentees a mentor takes at once; empty for a mentee.
    capacity: Mapped[int | None]
    joined_at: Mapped[datetime] = mapped_column(server_default=func.now())
    ended_at: Mapped[datetime | None]
    # The intake: the answers to the form of their role as kept (``workflows.questions.answered``), and, for a
    # mentee, the IANA zone their weekly availability windows are in.
    intake_answers: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    intake_answered_at: Mapped[datetime | None]
    # When the intake was finished: a mentee's once saved (or on joining a programme that asks mentees nothing), a
    # mentor's once they also confirmed their weekly hours. Only finished participants are matched or paired.
    intake_finished_at: Mapped[datetime | None]
    timezone: Mapped[str | None] = mapped_column(String(64))
    # The organisation's provider whose rule enrolled them at a sign-in: a later sign-in there ends it when the rule
    # no longer holds (they left the group).
    enrolled_by_provider_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("identity_providers.id", ondelete="SET NULL"))


class ParticipantAvailability(IdMixin, Base):
    """A mentee's weekly window in a programme, in their own zone (the participation's ``timezone``), as minutes
    since local midnight; a mentor's free time comes from their schedule instead."""

    __tablename__ = "participant_availability"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute", name="minutes_range"),
        UniqueConstraint("participant_id", "weekday", "start_minute"),
    )

    participant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programme_participants.id", ondelete="CASCADE"))
    weekday: Mapped[int]
    start_minute: Mapped[int]
    end_minute: Mapped[int]


class ProgrammeInvitation(IdMixin, Base):
    """An address a coordinator typed or uploaded, asked to join in a role: pending until the person joins or
    declines, or a coordinator withdraws it; it lapses at ``expires_at``. Its mail goes out within the programme's
    hourly cap, once the programme takes participants; the link in it carries a token whose SHA-256 alone is
    kept."""

    __tablename__ = "programme_invitations"
    __table_args__ = (
        CheckConstraint(check_in("role", ParticipantRole), name="role_values"),
        CheckConstraint(check_in("status", InvitationStatus), name="status_values"),
        CheckConstraint(check_in("email_status", EmailStatus), name="email_status_values"),
        CheckConstraint(_CAPACITY_FOR_MENTORS, name="capacity_for_mentors"),
        CheckConstraint("email = lower(email) AND position('@' in email) > 1", name="email_shape"),
        CheckConstraint("(status = 'pending') = (decided_at IS NULL)", name="decided_unless_pending"),
        Index(ONE_PENDING_INVITATION, "programme_id", "email", unique=True, postgresql_where=PENDING_INVITATION),
        Index(INVITATION_BY_HASH, "token_hash", unique=True),
        Index("ix_programme_invitations_programme_created", "programme_id", "created_at", "id"),
        Index("ix_programme_invitations_mail_owed", "programme_id", "created_at",
              postgresql_where=text("email_status = 'pending'")),
        Index("ix_programme_invitations_emailed", "programme_id", "emailed_at",
              postgresql_where=text("emailed_at IS NOT NULL")),
    )

    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(MAX_EMAIL))
    # The name as the coordinator gave it (stored as typed: never evaluated, and neutralised in any export).
    name: Mapped[str] = mapped_column(String(MAX_INVITEE_NAME), default="", server_default="")
    role: Mapped[ParticipantRole] = mapped_column(stored_as_text(ParticipantRole))
    capacity: Mapped[int | None]
    status: Mapped[InvitationStatus] = mapped_column(stored_as_text(InvitationStatus), default=InvitationStatus.PENDING)
    token_hash: Mapped[str] = mapped_column(String(64))
    invited_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    expires_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    # Who joined with it (their account may have another address than the one invited only if they registered it).
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    email_status: Mapped[EmailStatus] = mapped_column(stored_as_text(EmailStatus), default=EmailStatus.PENDING)
    email_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    emailed_at: Mapped[datetime | None]


class ProgrammeJoinLink(IdMixin, Base):
    """A link a coordinator shares: whoever opens it signed in joins in its role, until it expires, its uses run
    out, or it is revoked. Its token is derived from its id with the server's key, so coordinators can copy it
    again; only its SHA-256 is looked up."""

    __tablename__ = "programme_join_links"
    __table_args__ = (
        CheckConstraint(check_in("role", ParticipantRole), name="role_values"),
        CheckConstraint(_CAPACITY_FOR_MENTORS, name="capacity_for_mentors"),
        CheckConstraint(f"max_uses BETWEEN {JOIN_LINK_USES[0]} AND {JOIN_LINK_USES[1]}", name="max_uses_range"),
        CheckConstraint("uses BETWEEN 0 AND max_uses", name="uses_within_cap"),
        Index(JOIN_LINK_BY_HASH, "token_hash", unique=True),
        Index("ix_programme_join_links_programme_created", "programme_id", "created_at", "id"),
    )

    programme_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programmes.id", ondelete="CASCADE"))
    role: Mapped[ParticipantRole] = mapped_column(stored_as_text(ParticipantRole))
    capacity: Mapped[int | None]
    token_hash: Mapped[str] = mapped_column(String(64))
    max_uses: Mapped[int]
    uses: Mapped[int] = mapped_column(default=0, server_default="0")
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
