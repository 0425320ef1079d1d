from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, TimestampMixin
from models.enums import DisputeStatus, NoShow, check_in, stored_as_text

MAX_DISPUTE_TEXT = 2000


class AttendanceDispute(IdMixin, TimestampMixin, Base):
    """A participant's dispute of who was found absent from a meeting (a booking or a seat), and an
    administrator's answer: the attribution before, and the one they set (``workflows.sessions.attendance``)."""

    __tablename__ = "attendance_disputes"
    __table_args__ = (
        CheckConstraint(check_in("status", DisputeStatus), name="status_values"),
        CheckConstraint("raised_by IN ('mentor', 'mentee')", name="raised_by_values"),
        CheckConstraint(check_in("attribution_before", NoShow), name="before_values"),
        CheckConstraint(check_in("attribution_after", NoShow), name="after_values"),
        CheckConstraint(f"length(reason) BETWEEN 1 AND {MAX_DISPUTE_TEXT}", name="reason_length"),
        CheckConstraint(f"resolution_note IS NULL OR length(resolution_note) <= {MAX_DISPUTE_TEXT}",
                        name="note_length"),
        CheckConstraint("(status = 'resolved') = (resolved_at IS NOT NULL AND attribution_after IS NOT NULL)",
                        name="resolved_has_answer"),
        # The administrators' queue: open disputes, oldest first.
        Index("ix_attendance_disputes_open", "created_at", "id", postgresql_where=text("status = 'open'")),
    )

    # One dispute per meeting: an administrator's answer is final.
    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id"), unique=True)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id"), index=True)
    raised_by: Mapped[str] = mapped_column(String(8))
    raised_by_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[DisputeStatus] = mapped_column(stored_as_text(DisputeStatus), default=DisputeStatus.OPEN)
    attribution_before: Mapped[NoShow] = mapped_column(stored_as_text(NoShow, 8))
    attribution_after: Mapped[NoShow | None] = mapped_column(stored_as_text(NoShow, 8))
    resolved_by_user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None]
