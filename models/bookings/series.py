from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, TimestampMixin
from models.enums import CancelledBy, SeriesStatus, check_in, stored_as_text

MAX_OCCURRENCES = 26


class BookingSeries(IdMixin, TimestampMixin, Base):
    """A mentee's request for a meeting every week or two (``workflows.bookings.series``): answered once by the mentor,
    each occurrence its own booking (``bookings.series_id``), and so its own session once accepted.

    The occurrences keep the first one's wall-clock time in the mentor's timezone (``timezone``, as it was when
    requested): a weekly 18:00 stays 18:00 across a change of summer time. ``left_out``: the times the request
    did not include, and why (taken, outside the mentor's hours, dropped by the mentee).
    """

    __tablename__ = "booking_series"
    __table_args__ = (
        CheckConstraint(check_in("status", SeriesStatus), name="status_values"),
        CheckConstraint(check_in("cancelled_by", CancelledBy), name="cancelled_by_values"),
        CheckConstraint("every_weeks IN (1, 2)", name="every_weeks_values"),
        CheckConstraint(f"occurrences BETWEEN 1 AND {MAX_OCCURRENCES}", name="occurrences_bounded"),
        CheckConstraint("length(notes) <= 2000", name="notes_length"),
        CheckConstraint("end_reason IS NULL OR length(end_reason) <= 1000", name="end_reason_length"),
        Index("ix_booking_series_mentee_created", "mentee_user_id", "created_at", "id"),
        Index("ix_booking_series_mentor_created", "mentor_profile_id", "created_at", "id"),
    )

    listing_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("listings.id"), index=True)
    mentor_profile_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("mentor_profiles.id"))
    mentee_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    every_weeks: Mapped[int] = mapped_column(SmallInteger)
    first_start: Mapped[datetime]
    until: Mapped[date | None]
    occurrences: Mapped[int] = mapped_column(SmallInteger)  # how many times were asked for, left out ones included
    timezone: Mapped[str] = mapped_column(String(64))
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    bundle_purchase_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bundle_purchases.id"))
    status: Mapped[SeriesStatus] = mapped_column(stored_as_text(SeriesStatus), default=SeriesStatus.REQUESTED)
    left_out: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list, server_default="[]")
    decided_at: Mapped[datetime | None]
    decline_reason: Mapped[str | None] = mapped_column(Text)
    # Cancelled from a date on ("this and all following"), by whom, and why; ``ended`` once nothing is left to come.
    cancelled_from: Mapped[datetime | None]
    cancelled_by: Mapped[CancelledBy | None] = mapped_column(stored_as_text(CancelledBy))
    end_reason: Mapped[str | None] = mapped_column(Text)
