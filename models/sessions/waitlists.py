from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Identity, Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, TimestampMixin
from models.enums import WaitlistStatus, check_in, stored_as_text


class WaitlistEntry(IdMixin, TimestampMixin, Base):
    """A mentee in line for a seat of a full group session (``workflows.sessions.waitlists``), first come first served
    (``line``: the order they joined in). A freed seat is offered to the first in line until
    ``offer_expires_at`` (or given at once when they said so: ``take_at_once``); an offer not taken passes on.
    """

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        CheckConstraint(check_in("status", WaitlistStatus), name="status_values"),
        CheckConstraint("status <> 'offered' OR offer_expires_at IS NOT NULL", name="offer_has_an_end"),
        CheckConstraint("note IS NULL OR length(note) <= 300", name="note_length"),
        # In line once per session at a time.
        Index("uq_waitlist_entries_in_line", "session_id", "user_id", unique=True,
              postgresql_where=text("status IN ('waiting', 'offered')")),
        # Who is next: the session's waiting entries in line order.
        Index("ix_waitlist_entries_next", "session_id", "line", postgresql_where=text("status = 'waiting'")),
        # The sweep of offers not taken in time.
        Index("ix_waitlist_entries_offers", "offer_expires_at", postgresql_where=text("status = 'offered'")),
        Index("ix_waitlist_entries_user", "user_id", "created_at"),
    )

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    line: Mapped[int] = mapped_column(BigInteger, Identity(always=True))
    status: Mapped[WaitlistStatus] = mapped_column(stored_as_text(WaitlistStatus), default=WaitlistStatus.WAITING)
    take_at_once: Mapped[bool] = mapped_column(default=False, server_default="false")
    offered_at: Mapped[datetime | None]
    offer_expires_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]  # promoted, expired, left or closed
    booking_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bookings.id"))  # the seat given
    note: Mapped[str | None] = mapped_column(Text)  # why it ended without a seat
