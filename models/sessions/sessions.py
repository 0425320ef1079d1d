from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, FetchedValue, ForeignKey, Index, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB, ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, TimestampMixin
from models.enums import CancelCause, CancelledBy, ListingKind, SessionStatus, check_in, stored_as_text

# The constraint the workflows tell apart when a write runs into it.
LIVE_OVERLAP = "ex_sessions_mentor_live_overlap"
# A session's meeting room secret: 244 random bits (two UUIDv4s) from the server's strong random source,
# written as PostgreSQL prints it back, so that `alembic check` finds the model and the database agree.
ROOM_SECRET = "replace(((gen_random_uuid())::text || (gen_random_uuid())::text), '-'::text, ''::text)"  # noqa: S105


class MentorshipSession(IdMixin, TimestampMixin, Base):
    """The meeting itself. Individual sessions are created from accepted bookings only."""

    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint(check_in("status", SessionStatus), name="status_values"),
        CheckConstraint(check_in("kind", ListingKind), name="kind_values"),
        CheckConstraint("end_time > start_time", name="times_ordered"),
        CheckConstraint(
            "kind <> 'individual' OR (booking_id IS NOT NULL AND mentee_user_id IS NOT NULL AND capacity IS NULL)",
            name="individual_has_booking",
        ),
        CheckConstraint(
            "kind <> 'group' OR (booking_id IS NULL AND capacity BETWEEN 2 AND 500)",
            name="group_has_capacity",
        ),
        CheckConstraint("status <> 'completed' OR completed_at IS NOT NULL", name="completed_has_time"),
        CheckConstraint("status <> 'in_progress' OR started_at IS NOT NULL", name="started_has_time"),
        CheckConstraint("meeting_url IS NULL OR meeting_url ~ '^https://'", name="meeting_url_https"),
        CheckConstraint("agenda IS NULL OR length(agenda) <= 5000", name="agenda_length"),
        CheckConstraint("cancel_fee_cents IS NULL OR cancel_fee_cents >= 0", name="fee_non_negative"),
        CheckConstraint(check_in("cancelled_by", CancelledBy), name="cancelled_by_values"),
        CheckConstraint(check_in("cancel_cause", CancelCause), name="cancel_cause_values"),
        CheckConstraint("cancel_cause IS NULL OR status = 'cancelled'", name="cause_of_a_cancellation"),
        # Concurrent joins can never overfill a group session.
        CheckConstraint(
            "seats_taken >= 0 AND (capacity IS NULL OR seats_taken <= capacity)", name="seats_within_capacity"
        ),
        # A mentor's live sessions (individual or group) never overlap.
        ExcludeConstraint(
            ("mentor_profile_id", "="),
            (text("tstzrange(start_time, end_time, '[)')"), "&&"),
            name=LIVE_OVERLAP,
            using="gist",
            where=text("status IN ('scheduled', 'in_progress')"),
        ),
        Index("ix_sessions_mentor_start", "mentor_profile_id", "start_time", "id"),
        # The platform's numbers: sessions created per day (BRIN, as bookings' own: cheap for the worker's inserts).
        Index("ix_sessions_created", "created_at", postgresql_using="brin"),
        Index("ix_sessions_mentee_start", "mentee_user_id", "start_time", "id"),
        Index("ix_sessions_programme_start", "programme_id", "start_time", "id",
              postgresql_where=text("programme_id IS NOT NULL")),
        Index(
            "ix_sessions_open_end",
            "end_time",
            postgresql_where=text("status IN ('scheduled', 'in_progress')"),
        ),
    )

    kind: Mapped[ListingKind] = mapped_column(stored_as_text(ListingKind), default=ListingKind.INDIVIDUAL)
    # One session per booking: the unique key is what makes creation idempotent.
    booking_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bookings.id"), unique=True)
    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id"))
    # The programme of its listing, if any: a programme's sessions in start order (its reports and exports).
    programme_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("programmes.id", ondelete="SET NULL"))
    mentor_profile_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mentor_profiles.id"))
    mentee_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    start_time: Mapped[datetime]
    end_time: Mapped[datetime]
    status: Mapped[SessionStatus] = mapped_column(stored_as_text(SessionStatus), default=SessionStatus.SCHEDULED)
    capacity: Mapped[int | None]
    seats_taken: Mapped[int] = mapped_column(default=0, server_default="0")
    # The buffers the mentor keeps around it: its booking's, or a group session's listing's when scheduled.
    buffer_before_minutes: Mapped[int] = mapped_column(default=0, server_default="0")
    buffer_after_minutes: Mapped[int] = mapped_column(default=0, server_default="0")
    notes: Mapped[str | None] = mapped_column(Text)
    action_items: Mapped[list[Any]] = mapped_column(JSONB, default=list, server_default="[]")
    session_metadata: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONB, default=dict, server_default="{}"
    )
    # The default meeting link's room (MEETING_URL_TEMPLATE's {room}): shown to the participants only.
    meeting_room: Mapped[str] = mapped_column(String(64), server_default=text(ROOM_SECRET))
    # Set by the mentor before the start; the meeting URL wins over the listing's location and the template.
    meeting_url: Mapped[str | None] = mapped_column(String(500))
    agenda: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None]
    # When the mentor checked in (workflows.sessions.attendance); a mentee's check-in is on their booking or seat.
    mentor_checked_in_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(16))
    cancelled_at: Mapped[datetime | None]
    cancelled_by: Mapped[CancelledBy | None] = mapped_column(stored_as_text(CancelledBy))
    # Why (a pause, an end, a leave, a removal, a request, a move); null when written before causes were recorded.
    cancel_cause: Mapped[CancelCause | None] = mapped_column(stored_as_text(CancelCause))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    cancel_late: Mapped[bool | None]
    cancel_fee_cents: Mapped[int | None]
    credit_refunded: Mapped[bool | None]
    # The iCalendar SEQUENCE: a trigger (migration 0015) raises it whenever the time or status changes,
    # whichever code path made the change, so calendar clients replace their copy.
    calendar_sequence: Mapped[int] = mapped_column(default=0, server_default="0", server_onupdate=FetchedValue())
